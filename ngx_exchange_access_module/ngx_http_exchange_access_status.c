
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The counters and the status page: per list its source, size and the
 * state of its refreshes; per protocol and decision the requests, summed
 * over the workers (atomic adds in a small zone of their own, no lock).
 * JSON by default, Prometheus text with ?format=prometheus.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_STATS_ZONE  "exchange_access_stats"


typedef struct {
    ngx_str_t                         name;
    ngx_str_t                         configured;   /* the source */
    u_char                            loaded_from[16];
    ngx_uint_t                        nelts;
    ngx_uint_t                        generation;
    ngx_uint_t                        attempts;
    ngx_uint_t                        failures;
    ngx_uint_t                        refused;
    ngx_uint_t                        failing;
    ngx_uint_t                        loaded;    /* a table is in place */
    ngx_uint_t                        up;        /* the last refresh worked */
    ngx_uint_t                        state_file; /* one is configured */
    ngx_pid_t                         refreshing;
    time_t                            last_success;
    time_t                            created;
    time_t                            last_attempt;
    time_t                            next_refresh;
    time_t                            refresh;
    ngx_msec_t                        last_duration;
    ngx_uint_t                        last_step;  /* usec */
    ngx_uint_t                        last_step_cpu;  /* usec */
    ngx_uint_t                        last_cpu;   /* usec */
    ngx_str_t                         watch;     /* as configured */
    u_char                            watch_kind[16];
    ngx_uint_t                        watch_up;
    ngx_uint_t                        watch_changes;
    ngx_uint_t                        watch_refreshes;
    ngx_uint_t                        watch_applied;
    ngx_uint_t                        watch_reconnects;
    time_t                            watch_last;
    ngx_msec_t                        watch_delay;
    ngx_uint_t                        table_bytes;
    ngx_uint_t                        zone_bytes;
    ngx_uint_t                        zone_free;
    u_char                            error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];
    u_char                      state_error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];
} ngx_http_exchange_access_snapshot_t;


/*
 * The metrics: per list, fields of a snapshot (on the Prometheus page;
 * the JSON page names them itself); for the whole module, counters in the
 * stats zone, on both pages (a label in Prometheus, a key of a group in
 * JSON).
 */

#define NGX_HTTP_EXCHANGE_ACCESS_METRIC_UINT    0   /* ngx_uint_t */
#define NGX_HTTP_EXCHANGE_ACCESS_METRIC_TIME    1   /* time_t, seconds */
#define NGX_HTTP_EXCHANGE_ACCESS_METRIC_MSEC    2   /* ngx_msec_t, seconds */
#define NGX_HTTP_EXCHANGE_ACCESS_METRIC_USEC    3   /* ngx_uint_t, seconds */
#define NGX_HTTP_EXCHANGE_ACCESS_METRIC_ATOMIC  4   /* in the stats zone */

typedef struct {
    const char                       *name;
    const char                       *help;
    ngx_uint_t                        counter;   /* or a gauge */
    ngx_uint_t                        format;
    size_t                            offset;
    const char                       *label;     /* the module's: */
    const char                       *group;
    const char                       *key;
} ngx_http_exchange_access_metric_t;


static ngx_int_t ngx_http_exchange_access_stats_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_int_t ngx_http_exchange_access_status_handler(
    ngx_http_request_t *r);
static void ngx_http_exchange_access_snapshot(
    ngx_http_exchange_access_list_t *list,
    ngx_http_exchange_access_snapshot_t *s);
static u_char *ngx_http_exchange_access_json(u_char *p, u_char *last,
    ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_snapshot_t *snap, ngx_uint_t n);
static u_char *ngx_http_exchange_access_prometheus(u_char *p, u_char *last,
    ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_snapshot_t *snap, ngx_uint_t n);
static ngx_atomic_uint_t ngx_http_exchange_access_counted(
    ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_metric_t *m);
static u_char *ngx_http_exchange_access_escape(u_char *p, u_char *last,
    u_char *s, size_t len);




#define ngx_http_exchange_access_metric(name, help, counter, format, field)  \
    { name, help, counter, NGX_HTTP_EXCHANGE_ACCESS_METRIC_##format,         \
      offsetof(ngx_http_exchange_access_snapshot_t, field), NULL, NULL,      \
      NULL }

#define ngx_http_exchange_access_counter(name, help, label, group, key,      \
                                         field)                             \
    { name, help, 1, NGX_HTTP_EXCHANGE_ACCESS_METRIC_ATOMIC,                  \
      offsetof(ngx_http_exchange_access_stats_t, field), label, group, key }

static ngx_http_exchange_access_metric_t  ngx_http_exchange_access_metrics[] = {
    ngx_http_exchange_access_metric("exchange_access_list_entries",
        "Names on the allow-list.", 0, UINT, nelts),
    ngx_http_exchange_access_metric("exchange_access_list_generation",
        "Generation of the allow-list table; it rises at every change.",
        0, UINT, generation),
    ngx_http_exchange_access_metric("exchange_access_list_up",
        "1 if the last refresh of the list worked.", 0, UINT, up),
    ngx_http_exchange_access_metric("exchange_access_list_loaded",
        "1 if a table is in place; 0: restricted requests are denied.",
        0, UINT, loaded),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_success_timestamp_seconds",
        "Time of the last refresh that worked.", 0, TIME, last_success),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_attempt_timestamp_seconds",
        "Time of the last refresh.", 0, TIME, last_attempt),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_refresh_duration_seconds",
        "How long the last refresh took.", 0, MSEC, last_duration),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_refresh_longest_step_seconds",
        "The longest time the last refresh kept a worker's event loop.",
        0, USEC, last_step),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_refresh_longest_step_cpu_seconds",
        "The most CPU time one step of the last refresh took on a "
        "worker's event loop.",
        0, USEC, last_step_cpu),
    ngx_http_exchange_access_metric(
        "exchange_access_list_last_refresh_cpu_seconds",
        "The CPU time of the last refresh's steps on a worker's event loop.",
        0, USEC, last_cpu),
    ngx_http_exchange_access_metric(
        "exchange_access_list_next_refresh_timestamp_seconds",
        "Time of the next refresh.", 0, TIME, next_refresh),
    ngx_http_exchange_access_metric("exchange_access_list_refreshes_total",
        "Refreshes started.", 1, UINT, attempts),
    ngx_http_exchange_access_metric(
        "exchange_access_list_refresh_failures_total",
        "Refreshes that failed.", 1, UINT, failures),
    ngx_http_exchange_access_metric("exchange_access_list_table_bytes",
        "Bytes of the table in use, its names included.", 0, UINT,
        table_bytes),
    ngx_http_exchange_access_metric("exchange_access_list_zone_bytes",
        "Bytes of the list's zone.", 0, UINT, zone_bytes),
    ngx_http_exchange_access_metric("exchange_access_list_zone_free_bytes",
        "Bytes of the zone in free pages: room for the next table.",
        0, UINT, zone_free),
    ngx_http_exchange_access_metric("exchange_access_list_refused_values",
        "Directory values the last refresh refused: not what their "
        "attribute holds.", 0, UINT, refused),
    ngx_http_exchange_access_metric("exchange_access_list_watch_up",
        "1 if the watch of the directory is connected and polling.",
        0, UINT, watch_up),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_last_change_timestamp_seconds",
        "When the watch last saw a change in the directory.", 0, TIME,
        watch_last),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_delay_seconds",
        "From the directory's change to the list installed, the last time "
        "(0 if the directory gave no time).", 0, MSEC, watch_delay),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_changes_total",
        "Changes the watch saw in the directory.", 1, UINT, watch_changes),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_refreshes_total",
        "Refreshes started for changes the watch saw.", 1, UINT,
        watch_refreshes),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_applied_total",
        "Of those refreshes, the ones that applied the changes without "
        "reading the whole list again.", 1, UINT, watch_applied),
    ngx_http_exchange_access_metric(
        "exchange_access_list_watch_reconnects_total",
        "Times the watch connected again after losing its server.", 1, UINT,
        watch_reconnects),

    /* sessions ended because their user left a list */
    ngx_http_exchange_access_counter("exchange_access_sessions_ended_total",
        "Sessions ended because their user left a list: running requests, "
        "and connections whose NTLM identity was the user.",
        "kind=\"request\"", "sessions_ended", "requests", ended_requests),
    ngx_http_exchange_access_counter("exchange_access_sessions_ended_total",
        NULL, "kind=\"connection\"", "sessions_ended", "connections",
        ended_connections),

    { NULL, NULL, 0, 0, 0, NULL, NULL, NULL }
};


ngx_int_t
ngx_http_exchange_access_stats_init(ngx_conf_t *cf)
{
    ngx_str_t                              name;
    ngx_shm_zone_t                        *shm_zone;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_exchange_access_module);

    ngx_str_set(&name, NGX_HTTP_EXCHANGE_ACCESS_STATS_ZONE);

    shm_zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                     &ngx_http_exchange_access_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_exchange_access_stats_init_zone;
    shm_zone->data = eamcf;
    eamcf->stats_zone = shm_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_stats_init_zone(ngx_shm_zone_t *shm_zone,
    void *data)
{
    ngx_http_exchange_access_main_conf_t  *oeamcf = data;

    ngx_slab_pool_t                       *shpool;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = shm_zone->data;

    if (oeamcf) {
        /* a reload: the counters go on */
        eamcf->stats = oeamcf->stats;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        eamcf->stats = shpool->data;
        return NGX_OK;
    }

    eamcf->stats = ngx_slab_calloc(shpool,
                                   sizeof(ngx_http_exchange_access_stats_t));
    if (eamcf->stats == NULL) {
        return NGX_ERROR;
    }

    eamcf->stats->started = ngx_time();
    shpool->data = eamcf->stats;

    return NGX_OK;
}


void
ngx_http_exchange_access_count(ngx_http_request_t *r, ngx_uint_t protocol,
    ngx_uint_t decision)
{
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_get_module_main_conf(r, ngx_http_exchange_access_module);

    if (eamcf->stats == NULL || protocol >= NGX_EXA_PROTO_N
        || decision >= NGX_EXA_DECISION_N)
    {
        return;
    }

    (void) ngx_atomic_fetch_add(&eamcf->stats->requests[protocol][decision],
                                1);
}


/* exchange_access_status; */

char *
ngx_http_exchange_access_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_exchange_access_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_exchange_access_status_handler(ngx_http_request_t *r)
{
    size_t                                 size;
    ngx_buf_t                             *b;
    ngx_int_t                              rc;
    ngx_str_t                              format;
    ngx_uint_t                             i, n, prometheus;
    ngx_chain_t                            out;
    ngx_http_exchange_access_list_t      **lists;
    ngx_http_exchange_access_snapshot_t   *snap;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    prometheus = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            prometheus = 1;

        } else if (format.len != 4
                   || ngx_strncmp(format.data, "json", 4) != 0)
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    eamcf = ngx_http_get_module_main_conf(r, ngx_http_exchange_access_module);

    n = eamcf->lists.nelts;
    lists = eamcf->lists.elts;

    snap = ngx_palloc(r->pool,
                      (n + 1) * sizeof(ngx_http_exchange_access_snapshot_t));
    if (snap == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = 8192 + NGX_EXA_PROTO_N * 4 * 128;

    for (i = 0; i < n; i++) {
        ngx_http_exchange_access_snapshot(lists[i], &snap[i]);
        /* the name, escaped, in every metric */
        size += 2048 + 6 * (32 * snap[i].name.len
                            + 2 * NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (prometheus) {
        b->last = ngx_http_exchange_access_prometheus(b->last, b->end, eamcf,
                                                      snap, n);
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4; charset=utf-8");

    } else {
        b->last = ngx_http_exchange_access_json(b->last, b->end, eamcf, snap,
                                                n);
        ngx_str_set(&r->headers_out.content_type, "application/json");
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a copy of what the zone says, taken under its lock */

static void
ngx_http_exchange_access_snapshot(ngx_http_exchange_access_list_t *list,
    ngx_http_exchange_access_snapshot_t *s)
{
    ngx_http_exchange_access_shctx_t  *sh;

    ngx_memzero(s, sizeof(ngx_http_exchange_access_snapshot_t));

    s->name = list->name;
    s->configured = list->source->name;
    s->refresh = list->refresh;
    ngx_memcpy(s->loaded_from, "none", sizeof("none"));
    s->state_file = list->state_file.len ? 1 : 0;
    s->watch = list->watch_mode;

    if (s->watch.len == 0) {
        ngx_str_set(&s->watch, "off");
    }

    sh = list->sh;

    if (sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&list->shpool->mutex);

    if (sh->loaded_from[0]) {
        ngx_memcpy(s->loaded_from, sh->loaded_from, sizeof(s->loaded_from));
    }

    s->nelts = sh->nelts;
    s->generation = sh->generation;
    s->attempts = sh->attempts;
    s->failures = sh->failures;
    s->refused = sh->refused;
    s->failing = sh->failing;
    s->up = !sh->failing;
    s->loaded = sh->table != NULL;
    s->last_success = sh->last_success;
    s->created = sh->created;
    s->last_attempt = sh->last_attempt;
    s->next_refresh = sh->next_refresh;
    s->last_duration = sh->last_duration;
    s->last_step = sh->last_step;
    s->last_step_cpu = sh->last_step_cpu;
    s->last_cpu = sh->last_cpu;
    s->refreshing = (sh->lease_pid && ngx_time() < sh->lease_until)
                    ? sh->lease_pid : 0;
    ngx_memcpy(s->error, sh->error, sizeof(s->error));
    ngx_memcpy(s->state_error, sh->state_error, sizeof(s->state_error));

    ngx_memcpy(s->watch_kind, sh->watch_kind, sizeof(s->watch_kind));
    s->watch_up = sh->watch_up && ngx_time() < sh->watch_until;
    s->watch_changes = sh->watch_changes;
    s->watch_refreshes = sh->watch_refreshes;
    s->watch_applied = sh->watch_applied;
    s->watch_reconnects = sh->watch_reconnects;
    s->watch_last = sh->watch_last;
    s->watch_delay = (ngx_msec_t) sh->watch_delay;

    s->table_bytes = sh->table ? sh->table->size : 0;
    s->zone_bytes = list->shpool->end - (u_char *) list->shpool;
    s->zone_free = list->shpool->pfree << ngx_pagesize_shift;

    ngx_shmtx_unlock(&list->shpool->mutex);

    s->watch_kind[sizeof(s->watch_kind) - 1] = '\0';

    s->error[sizeof(s->error) - 1] = '\0';
    s->loaded_from[sizeof(s->loaded_from) - 1] = '\0';
    s->state_error[sizeof(s->state_error) - 1] = '\0';
}


/*
 * A string for JSON (and a Prometheus label): quotes, backslashes and
 * control characters escaped, UTF-8 kept, and a byte that does not start
 * a whole UTF-8 sequence escaped as \u00XX, so that the page stays valid
 * whatever a name or an error holds.
 */

static u_char *
ngx_http_exchange_access_escape(u_char *p, u_char *last, u_char *s,
    size_t len)
{
    size_t  i, n, k;

    for (i = 0; i < len && last - p > 6; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            *p++ = '\\';
            *p++ = s[i];
            continue;
        }

        if (s[i] < 0x20 || s[i] == 0x7f) {
            p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) s[i]);
            continue;
        }

        if (s[i] < 0x80) {
            *p++ = s[i];
            continue;
        }

        n = (s[i] >= 0xc2 && s[i] <= 0xdf) ? 1
            : (s[i] >= 0xe0 && s[i] <= 0xef) ? 2
            : (s[i] >= 0xf0 && s[i] <= 0xf4) ? 3 : 0;

        for (k = 1; k <= n && i + k < len && (s[i + k] & 0xc0) == 0x80; k++) {
            /* void */
        }

        if (n == 0 || k <= n || last - p < (ssize_t) n + 7) {
            p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) s[i]);
            continue;
        }

        p = ngx_cpymem(p, &s[i], n + 1);
        i += n;
    }

    return p;
}


/*
 * The state of a list: "ok", "failing" (the last refresh failed, the last
 * good table stays), "stale" (no refresh has worked for three intervals:
 * they failed, or one has not ended; a list from the state file counts
 * from the start), "unavailable" (no table: restricted requests from
 * outside are denied).
 */

static const char *
ngx_http_exchange_access_state(ngx_http_exchange_access_snapshot_t *s)
{
    time_t  since;

    if (!s->loaded) {
        return "unavailable";
    }

    since = s->last_success ? s->last_success : s->created;

    if (ngx_time() - since > 3 * s->refresh) {
        return "stale";
    }

    return s->failing ? "failing" : "ok";
}


static u_char *
ngx_http_exchange_access_json(u_char *p, u_char *last,
    ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_snapshot_t *snap, ngx_uint_t n)
{
    const char                           *group;
    ngx_uint_t                            i, proto, d;
    ngx_http_exchange_access_metric_t    *m;
    ngx_http_exchange_access_snapshot_t  *s;

    p = ngx_slprintf(p, last, "{\"time\":%T,\"lists\":{", ngx_time());

    for (i = 0; i < n; i++) {
        s = &snap[i];

        p = ngx_slprintf(p, last, "%s\"", i ? "," : "");
        p = ngx_http_exchange_access_escape(p, last, s->name.data,
                                            s->name.len);
        p = ngx_slprintf(p, last,
                         "\":{\"source\":\"%V\",\"loaded_from\":\"%s\","
                         "\"state\":\"%s\",\"entries\":%ui,"
                         "\"generation\":%ui,\"refreshes\":%ui,"
                         "\"failures\":%ui,\"refused\":%ui,"
                         "\"last_success\":%T,"
                         "\"last_attempt\":%T,\"last_duration_ms\":%M,"
                         "\"last_longest_step_us\":%ui,"
                         "\"last_longest_step_cpu_us\":%ui,"
                         "\"last_cpu_us\":%ui,"
                         "\"next_refresh\":%T,\"refresh_interval\":%T,"
                         "\"refreshing\":%P,\"table_bytes\":%ui,"
                         "\"zone_bytes\":%ui,\"zone_free_bytes\":%ui,",
                         &s->configured, s->loaded_from,
                         ngx_http_exchange_access_state(s),
                         s->nelts, s->generation, s->attempts, s->failures,
                         s->refused,
                         s->last_success, s->last_attempt, s->last_duration,
                         s->last_step, s->last_step_cpu, s->last_cpu,
                         s->next_refresh, s->refresh, s->refreshing,
                         s->table_bytes, s->zone_bytes, s->zone_free);

        p = ngx_slprintf(p, last,
                         "\"watch\":{\"mode\":\"%V\",\"method\":\"%s\","
                         "\"up\":%ui,\"last_change\":%T,"
                         "\"delay_ms\":%M,\"changes\":%ui,"
                         "\"refreshes\":%ui,\"applied\":%ui,"
                         "\"reconnects\":%ui},\"last_error\":",
                         &s->watch,
                         s->watch_kind[0] ? (char *) s->watch_kind : "none",
                         s->watch_up, s->watch_last, s->watch_delay,
                         s->watch_changes, s->watch_refreshes,
                         s->watch_applied, s->watch_reconnects);

        if (s->error[0] && s->failing) {
            p = ngx_slprintf(p, last, "\"");
            p = ngx_http_exchange_access_escape(p, last, s->error,
                                                ngx_strlen(s->error));
            p = ngx_slprintf(p, last, "\"");

        } else {
            p = ngx_slprintf(p, last, "null");
        }

        p = ngx_slprintf(p, last, ",\"state_file_error\":");

        if (s->state_error[0]) {
            p = ngx_slprintf(p, last, "\"");
            p = ngx_http_exchange_access_escape(p, last, s->state_error,
                                                ngx_strlen(s->state_error));
            p = ngx_slprintf(p, last, "\"}");

        } else {
            p = ngx_slprintf(p, last, "null}");
        }
    }

    p = ngx_slprintf(p, last, "},\"requests\":{");

    for (proto = 0; proto < NGX_EXA_PROTO_N; proto++) {
        p = ngx_slprintf(p, last, "%s\"%s\":{", proto ? "," : "",
                         ngx_exa_protocol_name(proto));

        for (d = NGX_EXA_DECISION_PASS; d < NGX_EXA_DECISION_N; d++) {
            p = ngx_slprintf(p, last, "%s\"%V\":%uA",
                             d > NGX_EXA_DECISION_PASS ? "," : "",
                             &ngx_http_exchange_access_decision_names[d],
                             eamcf->stats
                             ? eamcf->stats->requests[proto][d] : 0);
        }

        p = ngx_slprintf(p, last, "}");
    }

    p = ngx_slprintf(p, last, "}");

    /* the module's counters, a group at a time */

    group = NULL;

    for (m = ngx_http_exchange_access_metrics; m->name; m++) {

        if (m->format != NGX_HTTP_EXCHANGE_ACCESS_METRIC_ATOMIC) {
            continue;
        }

        if (group == NULL || ngx_strcmp(group, m->group) != 0) {
            p = ngx_slprintf(p, last, "%s,\"%s\":{", group ? "}" : "",
                             m->group);

        } else {
            p = ngx_slprintf(p, last, ",");
        }

        p = ngx_slprintf(p, last, "\"%s\":%uA", m->key,
                         ngx_http_exchange_access_counted(eamcf, m));
        group = m->group;
    }

    return ngx_slprintf(p, last, "%s}\n", group ? "}" : "");
}


static ngx_atomic_uint_t
ngx_http_exchange_access_counted(ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_metric_t *m)
{
    if (eamcf->stats == NULL) {
        return 0;
    }

    return *(ngx_atomic_t *) ((u_char *) eamcf->stats + m->offset);
}


static u_char *
ngx_http_exchange_access_prometheus(u_char *p, u_char *last,
    ngx_http_exchange_access_main_conf_t *eamcf,
    ngx_http_exchange_access_snapshot_t *snap, ngx_uint_t n)
{
    u_char                               *field;
    const char                           *name;
    ngx_uint_t                            i, proto, d;
    ngx_http_exchange_access_metric_t    *m;
    ngx_http_exchange_access_snapshot_t  *s;

    for (m = ngx_http_exchange_access_metrics; m->name; m++) {

        if (m->format == NGX_HTTP_EXCHANGE_ACCESS_METRIC_ATOMIC) {
            continue;
        }

        p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                         m->name, m->help, m->name,
                         m->counter ? "counter" : "gauge");

        for (i = 0; i < n; i++) {
            s = &snap[i];
            field = (u_char *) s + m->offset;

            p = ngx_slprintf(p, last, "%s{list=\"", m->name);
            p = ngx_http_exchange_access_escape(p, last, s->name.data,
                                                s->name.len);

            switch (m->format) {

            case NGX_HTTP_EXCHANGE_ACCESS_METRIC_TIME:
                p = ngx_slprintf(p, last, "\"} %T\n", *(time_t *) field);
                break;

            case NGX_HTTP_EXCHANGE_ACCESS_METRIC_MSEC:
                p = ngx_slprintf(p, last, "\"} %M.%03M\n",
                                 *(ngx_msec_t *) field / 1000,
                                 *(ngx_msec_t *) field % 1000);
                break;

            case NGX_HTTP_EXCHANGE_ACCESS_METRIC_USEC:
                p = ngx_slprintf(p, last, "\"} %ui.%06ui\n",
                                 *(ngx_uint_t *) field / 1000000,
                                 *(ngx_uint_t *) field % 1000000);
                break;

            default: /* NGX_HTTP_EXCHANGE_ACCESS_METRIC_UINT */
                p = ngx_slprintf(p, last, "\"} %ui\n", *(ngx_uint_t *) field);
                break;
            }
        }
    }

    p = ngx_slprintf(p, last,
                     "# HELP exchange_access_list_info Where the list "
                     "comes from and what its table was loaded from.\n"
                     "# TYPE exchange_access_list_info gauge\n");

    for (i = 0; i < n; i++) {
        s = &snap[i];

        p = ngx_slprintf(p, last, "exchange_access_list_info{list=\"");
        p = ngx_http_exchange_access_escape(p, last, s->name.data,
                                            s->name.len);
        p = ngx_slprintf(p, last, "\",source=\"%V\",loaded_from=\"%s\","
                         "state=\"%s\",watch=\"%V\",watch_method=\"%s\"} "
                         "1\n",
                         &s->configured, s->loaded_from,
                         ngx_http_exchange_access_state(s), &s->watch,
                         s->watch_kind[0] ? (char *) s->watch_kind : "none");
    }

    p = ngx_slprintf(p, last,
                     "# HELP exchange_access_list_state_file_ok 1 if the "
                     "last write of the list's state file worked.\n"
                     "# TYPE exchange_access_list_state_file_ok gauge\n");

    for (i = 0; i < n; i++) {
        s = &snap[i];

        if (!s->state_file) {
            continue;
        }

        p = ngx_slprintf(p, last, "exchange_access_list_state_file_ok{list=\"");
        p = ngx_http_exchange_access_escape(p, last, s->name.data,
                                            s->name.len);
        p = ngx_slprintf(p, last, "\"} %d\n", s->state_error[0] ? 0 : 1);
    }

    p = ngx_slprintf(p, last,
                     "# HELP exchange_access_requests_total Requests the "
                     "module decided on, by protocol and decision.\n"
                     "# TYPE exchange_access_requests_total counter\n");

    for (proto = 0; proto < NGX_EXA_PROTO_N; proto++) {
        for (d = NGX_EXA_DECISION_PASS; d < NGX_EXA_DECISION_N; d++) {
            p = ngx_slprintf(p, last,
                             "exchange_access_requests_total{protocol=\"%s\","
                             "decision=\"%V\"} %uA\n",
                             ngx_exa_protocol_name(proto),
                             &ngx_http_exchange_access_decision_names[d],
                             eamcf->stats
                             ? eamcf->stats->requests[proto][d] : 0);
        }
    }

    /* the module's counters: a line per label, the help once per name */

    name = NULL;

    for (m = ngx_http_exchange_access_metrics; m->name; m++) {

        if (m->format != NGX_HTTP_EXCHANGE_ACCESS_METRIC_ATOMIC) {
            continue;
        }

        if (name == NULL || ngx_strcmp(name, m->name) != 0) {
            p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                             m->name, m->help, m->name,
                             m->counter ? "counter" : "gauge");
        }

        p = ngx_slprintf(p, last, "%s{%s} %uA\n", m->name, m->label,
                         ngx_http_exchange_access_counted(eamcf, m));
        name = m->name;
    }

    return p;
}
