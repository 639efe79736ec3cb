
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_exa_table.h"
#include "ngx_exa_classify.h"
#include "ngx_exa_credential.h"
#include "ngx_exa_name.h"
#include "ngx_exa_ldap.h"
#include "ngx_exa_regex.h"
#include "ngx_exa_decide.h"
#include "ngx_exa_assert.h"
#include "ngx_http_exchange_access_ntlm.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN    256


typedef struct ngx_http_exchange_access_list_s
    ngx_http_exchange_access_list_t;
typedef struct ngx_http_exchange_access_source_s
    ngx_http_exchange_access_source_t;


/* a generation of the table, as it lives in the zone */

typedef struct ngx_http_exchange_access_gen_s
    ngx_http_exchange_access_gen_t;

struct ngx_http_exchange_access_gen_s {
    ngx_http_exchange_access_gen_t   *next;       /* retired chain */
    time_t                            retired;
    ngx_uint_t                        generation;
    /* ngx_exa_table_t follows, aligned */
};


typedef struct {
    /* read by every request without a lock: published with one store */
    ngx_exa_table_t * volatile        table;

    ngx_http_exchange_access_gen_t   *current;
    ngx_http_exchange_access_gen_t   *retired;
    ngx_uint_t                        generation;
    time_t                            loaded;     /* last table installed */
    ngx_uint_t                        nelts;
    u_char                            loaded_from[16];  /* a source's name */

    /* refreshes: one worker at a time, under a lease that expires */
    ngx_pid_t                         lease_pid;
    time_t                            lease_until;
    time_t                            next_refresh;
    time_t                            last_attempt;
    time_t                            last_success;
    ngx_msec_t                        last_duration;
    ngx_uint_t                        last_step;  /* longest, usec */
    ngx_uint_t                        last_step_cpu;  /* its CPU, usec */
    ngx_uint_t                        last_cpu;   /* its steps', usec */
    ngx_uint_t                        attempts;
    ngx_uint_t                        failures;
    ngx_uint_t                        failing;    /* unsigned:1 */
    ngx_uint_t                        stale;      /* unsigned:1 */
    time_t                            created;    /* the zone */
    ngx_uint_t                        refused;    /* values, last refresh */
    time_t                            version;    /* of the source's data */
    u_char                            error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];

    /* why the last write of the state file failed; empty: it worked */
    u_char                      state_error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];

    /* the watch: one worker at a time, under a lease of its own */
    ngx_pid_t                         watch_pid;
    time_t                            watch_until;
    u_char                            watch_kind[16];  /* how it sees */
    ngx_uint_t                        watch_up;   /* unsigned:1 */
    ngx_uint_t                        watch_changes;   /* seen */
    ngx_uint_t                        watch_seq;  /* refreshes asked for */
    ngx_uint_t                        watch_done;  /* of them, in the list */
    ngx_uint_t                        watch_at_seq;  /* the last change */
    ngx_uint_t                        watch_refreshes;  /* started for it */
    ngx_uint_t                        watch_applied;  /* without a full
                                                         read of the list */
    ngx_uint_t                        watch_reconnects;
    time_t                            watch_last;  /* a change seen, then */
    int64_t                           watch_at;   /* its time, usec, or 0 */
    int64_t                           watch_delay;  /* to the list, msec */
} ngx_http_exchange_access_shctx_t;


/*
 * A source of allow-lists (ngx_http_exchange_access_file.c,
 * ngx_http_exchange_access_ldap_conf.c).  Adding one: a new file that
 * defines an ngx_http_exchange_access_source_t, and its line in
 * ngx_http_exchange_access_sources.h.
 *
 *   commands     its directives in the list block: a table that ends with
 *                ngx_null_command; conf is what create_conf returned, so
 *                the stock slot setters (ngx_conf_set_str_slot, ...) work
 *   create_conf  its configuration, with every field unset
 *   init_conf    after the block: defaults, checks; may set list->keys,
 *                the list to install when the zone is created
 *   refresh      reads the list again, in a worker that holds the lease;
 *                it must end by calling ngx_http_exchange_access_list_done()
 *                exactly once, now or from a later event, and never block
 *   lease        how long a refresh may hold the lease, in seconds: a
 *                worker that dies while refreshing loses it then
 *   watch        NULL, or called every second in every worker: looks for
 *                changes of the source between refreshes, in one worker
 *                at a time under a lease of its own (watch_pid), and
 *                calls ngx_http_exchange_access_list_changed() when it
 *                sees one; never blocks
 *   state_file   1 if "state_file" may stand in for the source at start
 */

typedef void *(*ngx_http_exchange_access_create_pt)(ngx_conf_t *cf);
typedef char *(*ngx_http_exchange_access_init_pt)(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
typedef void (*ngx_http_exchange_access_refresh_pt)(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);
typedef time_t (*ngx_http_exchange_access_lease_pt)(
    ngx_http_exchange_access_list_t *list);

struct ngx_http_exchange_access_source_s {
    ngx_str_t                             name;
    ngx_command_t                        *commands;
    ngx_http_exchange_access_create_pt    create_conf;
    ngx_http_exchange_access_init_pt      init_conf;
    ngx_http_exchange_access_refresh_pt   refresh;
    ngx_http_exchange_access_lease_pt     lease;
    ngx_http_exchange_access_refresh_pt   watch;
    ngx_uint_t                            state_file;
};


struct ngx_http_exchange_access_list_s {
    ngx_str_t                         name;
    ngx_uint_t                        defined;    /* unsigned:1 */
    size_t                            size;
    time_t                            refresh;
    ngx_str_t                         state_file;

    ngx_http_exchange_access_source_t *source;
    void                             *source_conf;

    /* the list installed when the zone is created, if it has none */
    ngx_array_t                      *keys;       /* of ngx_exa_str_t */
    ngx_uint_t                        keys_from_state;  /* unsigned:1 */
    ngx_str_t                         state_error;  /* why it was not read */
    time_t                            version;    /* of the source's data */

    /* per worker */
    ngx_msec_t                        started;    /* the refresh under way */
    int64_t                           step_start;  /* usec, or 0 */
    int64_t                           step_cpu;    /* usec of CPU then */
    ngx_uint_t                        step_longest;  /* usec, this refresh */
    ngx_uint_t                        step_longest_cpu;  /* usec of CPU */
    ngx_uint_t                        refresh_cpu;   /* usec, this refresh */
    void                             *running;    /* a refresh under way */
    void                             *installing; /* its table, being built */
    ngx_uint_t                        changes;    /* the refresh covers */
    void                             *watching;   /* the watch, here */
    time_t                            watch_retry;  /* after a failure */
    time_t                            watch_backoff;
    ngx_uint_t                        watch_failing;  /* unsigned:1 */
    ngx_str_t                         watch_mode;  /* as configured */

    ngx_shm_zone_t                   *shm_zone;
    ngx_slab_pool_t                  *shpool;
    ngx_http_exchange_access_shctx_t *sh;

    /* where the list was first referenced, for errors */
    u_char                           *conf_file;
    ngx_uint_t                        conf_line;
};


/* the post of a path directive: ngx_http_exchange_access_conf_full_name */

typedef struct {
    ngx_conf_post_handler_pt          post_handler;
    ngx_uint_t                        conf_prefix;
} ngx_http_exchange_access_path_post_t;


/* request counters, summed over the workers: updated with atomic adds */

typedef struct {
    ngx_atomic_t                      requests[NGX_EXA_PROTO_N]
                                          [NGX_EXA_DECISION_N];
    time_t                            started;

    /* sessions ended because their user left a list */
    ngx_atomic_t                      ended_requests;
    ngx_atomic_t                      ended_connections;
} ngx_http_exchange_access_stats_t;


typedef struct {
    ngx_array_t                       lists;      /* of list_t * */
    ngx_shm_zone_t                   *stats_zone;
    ngx_http_exchange_access_stats_t *stats;
    ngx_uint_t                        any_domain; /* unsigned:1 */
    ngx_uint_t                        enabled;    /* a location is not off */
} ngx_http_exchange_access_main_conf_t;


/*
 * A live session of a user a list allowed: a running request, or a client
 * connection whose NTLM or Negotiate identity the backend accepted.  Kept
 * in a per-worker registry while it lives; when a new generation of the
 * list no longer has the user, the worker ends it.
 */

typedef struct {
    ngx_queue_t                       queue;
    ngx_http_exchange_access_list_t  *list;
    ngx_connection_t                 *connection;
    ngx_http_request_t               *request;    /* NULL: the connection */
    u_char                           *key;
    size_t                            len;
    u_char                           *domain;     /* NetBIOS, or NULL */
    size_t                            domain_len;
    ngx_uint_t                        protocol;
    time_t                            started;
    unsigned                          linked:1;
    unsigned                          first:1;    /* the first domain */
    unsigned                          audit:1;
    unsigned                          revoked:1;
} ngx_http_exchange_access_session_t;


/* ngx_http_exchange_access_list.c: the list block, the refresh timer */

ngx_http_exchange_access_list_t *ngx_http_exchange_access_list_get(
    ngx_conf_t *cf, ngx_str_t *name);
char *ngx_http_exchange_access_list_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_exchange_access_list_check(ngx_conf_t *cf);
void ngx_http_exchange_access_list_tick(ngx_cycle_t *cycle);
void ngx_http_exchange_access_list_exit_worker(ngx_cycle_t *cycle);
void ngx_http_exchange_access_list_changed(
    ngx_http_exchange_access_list_t *list, int64_t at, ngx_log_t *log);
void ngx_http_exchange_access_list_watch_failed(
    ngx_http_exchange_access_list_t *list, const char *error, ngx_log_t *log);

/* ngx_http_exchange_access_shm.c, used by the inline functions below */

void ngx_http_exchange_access_step_slow(ngx_http_exchange_access_list_t *list,
    int64_t wall, int64_t cpu);

/* ngx_http_exchange_access_conf.c: directives read as nginx reads them */

char *ngx_http_exchange_access_conf_command(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_exchange_access_conf_full_name(ngx_conf_t *cf, void *post,
    void *data);

/*
 * A new generation of a list's table being built in its zone and compared
 * with the one in use, a part at a time (ngx_http_exchange_access_shm.c),
 * so that a list of a million names never holds the event loop for more
 * than a step.  The keys must stay as they are until it ends.
 */

typedef struct {
    ngx_http_exchange_access_list_t      *list;
    ngx_http_exchange_access_gen_t       *gen;       /* NULL: none held */
    ngx_http_exchange_access_gen_t       *against;   /* the one in use */
    ngx_uint_t                            generation; /* at the start */
    ngx_uint_t                            from_state;
    ngx_uint_t                            phase;
    ngx_uint_t                            steps;
    ngx_exa_table_builder_t               build;
    ngx_exa_table_cmp_t                   cmp;
} ngx_http_exchange_access_install_t;


/*
 * The work a refresh does in one turn of the event loop, in microseconds
 * of the clock: its steps overrun it by a fraction (the clock is read
 * every few units of work), and stay well under the 2 ms a request may
 * wait.
 */

#define NGX_HTTP_EXCHANGE_ACCESS_STEP_USEC  500

/* a step that kept the event loop longer is logged, at "info" */
#define NGX_HTTP_EXCHANGE_ACCESS_STEP_SLOW  2000


/* an event's handler runs again after the other events of this turn */

static ngx_inline void
ngx_http_exchange_access_post_next(ngx_event_t *ev)
{
#if (nginx_version >= 1017005)
    ngx_post_event(ev, &ngx_posted_next_events);
#else
    ngx_add_timer(ev, 1);
#endif
}


/*
 * How long the event loop is held by the work of a refresh: a step is
 * timed from its start to its end or to the end of the refresh, whichever
 * comes first, and the longest of a refresh is on the status page.
 */

static ngx_inline int64_t
ngx_http_exchange_access_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* the CPU time of the calling thread, the event loop's */

static ngx_inline int64_t
ngx_http_exchange_access_cpu_usec(void)
{
#if defined CLOCK_THREAD_CPUTIME_ID
    struct timespec  ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
#endif

    return 0;
}


static ngx_inline void
ngx_http_exchange_access_step_start(ngx_http_exchange_access_list_t *list)
{
    list->step_start = ngx_http_exchange_access_usec();
    list->step_cpu = ngx_http_exchange_access_cpu_usec();
}


static ngx_inline void
ngx_http_exchange_access_step_end(ngx_http_exchange_access_list_t *list)
{
    int64_t  wall, cpu;

    if (list->step_start == 0) {
        return;
    }

    wall = ngx_http_exchange_access_usec() - list->step_start;
    list->step_start = 0;

    if (wall > (int64_t) list->step_longest) {
        list->step_longest = (ngx_uint_t) wall;
    }

    cpu = ngx_http_exchange_access_cpu_usec() - list->step_cpu;

    if (cpu > 0) {
        list->refresh_cpu += (ngx_uint_t) cpu;

        if (cpu > (int64_t) list->step_longest_cpu) {
            list->step_longest_cpu = (ngx_uint_t) cpu;
        }
    }

    if (wall >= NGX_HTTP_EXCHANGE_ACCESS_STEP_SLOW) {
        ngx_http_exchange_access_step_slow(list, wall, cpu);
    }
}


/* ngx_http_exchange_access_shm.c: the zone, its tables, refresh results */

ngx_int_t ngx_http_exchange_access_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_exchange_access_list_lookup(
    ngx_http_exchange_access_list_t *list, u_char *key, size_t len,
    const u_char *netbios, size_t nlen, ngx_uint_t first);
ngx_int_t ngx_http_exchange_access_list_install(
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys,
    ngx_uint_t from_state, ngx_log_t *log);
ngx_int_t ngx_http_exchange_access_install_start(
    ngx_http_exchange_access_install_t *in,
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys,
    ngx_uint_t from_state);
ngx_int_t ngx_http_exchange_access_install_step(
    ngx_http_exchange_access_install_t *in, ngx_msec_t usec, ngx_log_t *log);
void ngx_http_exchange_access_install_abort(
    ngx_http_exchange_access_install_t *in);
const char *ngx_http_exchange_access_list_installed(
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys, ngx_int_t rc,
    ngx_uint_t generation, ngx_log_t *log);
void ngx_http_exchange_access_list_reap_locked(
    ngx_http_exchange_access_list_t *list);
void ngx_http_exchange_access_list_done(ngx_http_exchange_access_list_t *list,
    ngx_array_t *keys, const char *error, ngx_log_t *log);
void ngx_http_exchange_access_list_stale(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log);

/* ngx_http_exchange_access_state.c: the state file */

ngx_int_t ngx_http_exchange_access_state_read(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
void ngx_http_exchange_access_state_write(
    ngx_http_exchange_access_list_t *list, ngx_array_t *keys,
    ngx_log_t *log);

/* ngx_http_exchange_access_session.c: live sessions, ended on revocation */

void ngx_http_exchange_access_session_start(
    ngx_http_exchange_access_session_t *s);
ngx_int_t ngx_http_exchange_access_session_init_worker(ngx_cycle_t *cycle);


/* inline: a request stops its session on each decision and at its end */

static ngx_inline void
ngx_http_exchange_access_session_stop(ngx_http_exchange_access_session_t *s)
{
    if (!s->linked) {
        return;
    }

    ngx_queue_remove(&s->queue);
    s->linked = 0;
}

/* ngx_http_exchange_access_status.c: counters and the status page */

ngx_int_t ngx_http_exchange_access_stats_init(ngx_conf_t *cf);
void ngx_http_exchange_access_count(ngx_http_request_t *r,
    ngx_uint_t protocol, ngx_uint_t decision);
char *ngx_http_exchange_access_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_exchange_access_variables.c: the names of the decisions */

extern ngx_str_t  ngx_http_exchange_access_decision_names[];


extern ngx_module_t  ngx_http_exchange_access_module;


NGX_EXA_HIDDEN_END


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_MODULE_H_INCLUDED_ */
