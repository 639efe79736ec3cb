
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"
#include "ngx_exa_set.h"


/*
 * The file source: "file path;", one name a line.  The file is read when
 * nginx reads its configuration, and again by a refresh when its mtime
 * changed: then a part at a time, on the event loop, as a refresh from a
 * directory is.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX   (256 * 1024 * 1024)

/* what one read takes: a line must fit in it */
#define NGX_HTTP_EXCHANGE_ACCESS_FILE_CHUNK  65536

/* lines parsed, or keys counted, between two reads of the clock */
#define NGX_HTTP_EXCHANGE_ACCESS_FILE_CLOCK  64


typedef struct {
    ngx_str_t                         path;
} ngx_http_exchange_access_file_conf_t;


/* the file being read and parsed */

typedef struct {
    ngx_http_exchange_access_list_t  *list;
    ngx_file_t                        file;
    off_t                             size;     /* when it was opened */
    time_t                            mtime;
    u_char                           *buf;      /* a chunk */
    u_char                           *pos;      /* the lines not parsed */
    u_char                           *last;
    ngx_uint_t                        line;
    ngx_pool_t                       *pool;     /* the names' bytes */
    ngx_exa_mem_t                     mem;
    ngx_exa_str_t                    *keys;     /* grown without a copy */
    size_t                            nkeys;
    size_t                            nalloc;
    ngx_exa_table_tagger_t            tagger;
    ngx_uint_t                        phase;
} ngx_http_exchange_access_file_reader_t;


#define NGX_HTTP_EXCHANGE_ACCESS_FILE_PARSE  0
#define NGX_HTTP_EXCHANGE_ACCESS_FILE_TAGS   1
#define NGX_HTTP_EXCHANGE_ACCESS_FILE_DONE   2


/* a refresh: the file read, then its new table built */

typedef struct {
    ngx_pool_t                              *pool;
    ngx_array_t                              keys;  /* the reader's */
    ngx_event_t                              step;
    ngx_uint_t                               reading;
    ngx_http_exchange_access_file_reader_t   rd;
    ngx_http_exchange_access_install_t       install;
} ngx_http_exchange_access_file_ctx_t;


static void *ngx_http_exchange_access_file_create_conf(ngx_conf_t *cf);
static char *ngx_http_exchange_access_file_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
static void ngx_http_exchange_access_file_refresh(
    ngx_http_exchange_access_list_t *list, ngx_log_t *log);
static void ngx_http_exchange_access_file_step(ngx_event_t *ev);
static const char *ngx_http_exchange_access_file_read_step(
    ngx_http_exchange_access_file_ctx_t *ctx, ngx_log_t *log);
static void ngx_http_exchange_access_file_end(
    ngx_http_exchange_access_file_ctx_t *ctx, const char *error,
    ngx_log_t *log);
static time_t ngx_http_exchange_access_file_lease(
    ngx_http_exchange_access_list_t *list);
static ngx_int_t ngx_http_exchange_access_file_open(
    ngx_http_exchange_access_file_reader_t *rd,
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, ngx_pool_t *pool,
    ngx_log_t *log);
static ngx_int_t ngx_http_exchange_access_file_parse(
    ngx_http_exchange_access_file_reader_t *rd, ngx_msec_t usec);
static ngx_int_t ngx_http_exchange_access_file_more(
    ngx_http_exchange_access_file_reader_t *rd);
static ngx_int_t ngx_http_exchange_access_file_line(
    ngx_http_exchange_access_file_reader_t *rd, u_char *start, u_char *end);
static void ngx_http_exchange_access_file_close(
    ngx_http_exchange_access_file_reader_t *rd);


static ngx_http_exchange_access_path_post_t  ngx_http_exchange_access_file_post
    = { ngx_http_exchange_access_conf_full_name, 1 };


static ngx_command_t  ngx_http_exchange_access_file_commands[] = {

    { ngx_string("file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_file_conf_t, path),
      &ngx_http_exchange_access_file_post },

      ngx_null_command
};


ngx_http_exchange_access_source_t  ngx_http_exchange_access_file_source = {
    ngx_string("file"),
    ngx_http_exchange_access_file_commands,
    ngx_http_exchange_access_file_create_conf,
    ngx_http_exchange_access_file_init_conf,
    ngx_http_exchange_access_file_refresh,
    ngx_http_exchange_access_file_lease,
    NULL,
    0
};


static void *
ngx_http_exchange_access_file_create_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_file_conf_t));
}


/* the file is read now: a broken file fails nginx -t, and the reload */

static char *
ngx_http_exchange_access_file_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    ngx_int_t                                rc;
    ngx_exa_str_t                           *k;
    ngx_http_exchange_access_file_conf_t    *fcf;
    ngx_http_exchange_access_file_reader_t   rd;

    fcf = list->source_conf;

    if (ngx_http_exchange_access_file_open(&rd, list, &fcf->path, cf->pool,
                                           cf->log)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_exchange_access_file_parse(&rd, 0);

    if (rc == NGX_OK) {
        list->keys = ngx_array_create(cf->pool, ngx_max(rd.nkeys, 1),
                                      sizeof(ngx_exa_str_t));
        k = list->keys ? ngx_array_push_n(list->keys, rd.nkeys) : NULL;

        if (k == NULL) {
            rc = NGX_ERROR;

        } else if (rd.nkeys) {
            ngx_memcpy(k, rd.keys, rd.nkeys * sizeof(ngx_exa_str_t));
        }
    }

    list->version = rd.mtime;

    ngx_http_exchange_access_file_close(&rd);

    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    list->keys_from_state = 0;

    return NGX_CONF_OK;
}


static time_t
ngx_http_exchange_access_file_lease(ngx_http_exchange_access_list_t *list)
{
    return 2 * list->refresh + 60;
}


/*
 * A refresh: when the file changed, it is read and parsed a part at a
 * time, then its table is installed a step at a time, each part and step
 * in a turn of the event loop of its own.
 */

static void
ngx_http_exchange_access_file_refresh(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    ngx_pool_t                            *pool;
    ngx_file_info_t                        fi;
    ngx_http_exchange_access_file_ctx_t   *ctx;
    ngx_http_exchange_access_file_conf_t  *fcf;

    fcf = list->source_conf;

    if (ngx_file_info(fcf->path.data, &fi) == NGX_FILE_ERROR) {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file cannot be read",
                                           log);
        return;
    }

    if (ngx_file_mtime(&fi) == list->sh->version) {
        ngx_http_exchange_access_list_done(list, NULL, NULL, log);
        return;
    }

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_exchange_access_file_ctx_t));
    if (ctx == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        ngx_destroy_pool(pool);
        return;
    }

    if (ngx_http_exchange_access_file_open(&ctx->rd, list, &fcf->path, pool,
                                           log)
        != NGX_OK)
    {
        ngx_http_exchange_access_list_done(list, NULL,
                                           "the list file is not valid",
                                           log);
        ngx_destroy_pool(pool);
        return;
    }

    ctx->pool = pool;
    ctx->reading = 1;
    ctx->step.handler = ngx_http_exchange_access_file_step;
    ctx->step.data = ctx;
    ctx->step.log = log;

    list->running = ctx;

    ngx_http_exchange_access_post_next(&ctx->step);
}


/* a part of the file, or a step of the new table's build */

static void
ngx_http_exchange_access_file_step(ngx_event_t *ev)
{
    ngx_int_t                             rc;
    const char                           *error;
    ngx_http_exchange_access_list_t      *list;
    ngx_http_exchange_access_file_ctx_t  *ctx;

    ctx = ev->data;
    list = ctx->rd.list;

    ngx_http_exchange_access_step_start(list);

    if (ctx->reading) {
        error = ngx_http_exchange_access_file_read_step(ctx, ev->log);

        if (error == NULL && (ctx->reading || list->installing)) {
            ngx_http_exchange_access_step_end(list);
            ngx_http_exchange_access_post_next(ev);
            return;
        }

        ngx_http_exchange_access_file_end(ctx, error, ev->log);
        return;
    }

    rc = ngx_http_exchange_access_install_step(&ctx->install,
                                         NGX_HTTP_EXCHANGE_ACCESS_STEP_USEC,
                                         ev->log);

    if (rc == NGX_AGAIN) {
        ngx_http_exchange_access_step_end(list);
        ngx_http_exchange_access_post_next(ev);
        return;
    }

    error = ngx_http_exchange_access_list_installed(list, &ctx->keys, rc,
                                                    ctx->install.generation,
                                                    ev->log);

    /* a list that could not be installed is read again next time */

    if (error == NULL) {
        list->sh->version = ctx->rd.mtime;
    }

    ngx_http_exchange_access_file_end(ctx, error, ev->log);
}


/*
 * A part of the file read and parsed; once all of it is, the new table's
 * build starts (list->installing), or the refresh ends: NULL, or why
 */

static const char *
ngx_http_exchange_access_file_read_step(
    ngx_http_exchange_access_file_ctx_t *ctx, ngx_log_t *log)
{
    ngx_int_t                         rc;
    ngx_http_exchange_access_list_t  *list;

    list = ctx->rd.list;

    rc = ngx_http_exchange_access_file_parse(&ctx->rd,
                                          NGX_HTTP_EXCHANGE_ACCESS_STEP_USEC);

    if (rc == NGX_AGAIN) {
        return NULL;
    }

    ctx->reading = 0;

    if (rc != NGX_OK) {
        return "the list file is not valid";
    }

    ctx->keys.elts = ctx->rd.keys;
    ctx->keys.nelts = ctx->rd.nkeys;
    ctx->keys.size = sizeof(ngx_exa_str_t);
    ctx->keys.nalloc = ctx->rd.nkeys;
    ctx->keys.pool = ctx->pool;

    /* the build's first step in the next turn of the event loop */

    rc = ngx_http_exchange_access_install_start(&ctx->install, list,
                                                &ctx->keys, 0);

    if (rc != NGX_OK) {
        return ngx_http_exchange_access_list_installed(list, &ctx->keys, rc,
                                                       0, log);
    }

    list->installing = &ctx->install;

    return NULL;
}


static void
ngx_http_exchange_access_file_end(ngx_http_exchange_access_file_ctx_t *ctx,
    const char *error, ngx_log_t *log)
{
    ngx_http_exchange_access_list_t  *list;

    list = ctx->rd.list;
    list->running = NULL;

    ngx_http_exchange_access_file_close(&ctx->rd);

    ngx_http_exchange_access_list_done(list, NULL, error, log);

    ngx_destroy_pool(ctx->pool);
}


/* opens the list file; errors are logged at EMERG */

static ngx_int_t
ngx_http_exchange_access_file_open(ngx_http_exchange_access_file_reader_t *rd,
    ngx_http_exchange_access_list_t *list, ngx_str_t *name, ngx_pool_t *pool,
    ngx_log_t *log)
{
    ngx_file_info_t  fi;

    ngx_memzero(rd, sizeof(ngx_http_exchange_access_file_reader_t));

    rd->list = list;
    rd->pool = pool;
    rd->file.name = *name;
    rd->file.log = log;

    rd->file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                                0);

    if (rd->file.fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(rd->file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", name);
        goto failed;
    }

    if (!ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "\"%V\" is not a regular file of at most %uzM", name,
                      (size_t) NGX_HTTP_EXCHANGE_ACCESS_FILE_MAX / 1024 / 1024);
        goto failed;
    }

    rd->size = ngx_file_size(&fi);
    rd->mtime = ngx_file_mtime(&fi);

    rd->buf = ngx_pnalloc(pool, NGX_HTTP_EXCHANGE_ACCESS_FILE_CHUNK);
    if (rd->buf == NULL) {
        goto failed;
    }

    rd->pos = rd->buf;
    rd->last = rd->buf;

    return NGX_OK;

failed:

    ngx_http_exchange_access_file_close(rd);

    return NGX_ERROR;
}


static void
ngx_http_exchange_access_file_close(ngx_http_exchange_access_file_reader_t *rd)
{
    if (rd->keys) {
        ngx_exa_mem_free(&rd->mem, rd->keys, rd->nalloc,
                         sizeof(ngx_exa_str_t));
        rd->keys = NULL;
    }

    if (rd->file.fd == NGX_INVALID_FILE) {
        return;
    }

    if (ngx_close_file(rd->file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, rd->file.log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &rd->file.name);
    }

    rd->file.fd = NGX_INVALID_FILE;
}


/*
 * One name a line: "user", "DOMAIN\user" (DOMAIN a NetBIOS name) or
 * "user@suffix"; blank lines and lines starting with "#" are skipped.
 * The file is parsed, and then its NetBIOS domains counted, for about
 * usec microseconds (0: to the end): NGX_OK at the end, NGX_AGAIN, or
 * NGX_ERROR (logged at EMERG).
 */

static ngx_int_t
ngx_http_exchange_access_file_parse(ngx_http_exchange_access_file_reader_t *rd,
    ngx_msec_t usec)
{
    u_char      *eol;
    size_t       work;
    int64_t      start;
    ngx_int_t    rc;
    ngx_uint_t   n;

    start = usec ? ngx_http_exchange_access_usec() : 0;
    n = 0;

    while (rd->phase == NGX_HTTP_EXCHANGE_ACCESS_FILE_PARSE) {

        if (usec && ++n % NGX_HTTP_EXCHANGE_ACCESS_FILE_CLOCK == 0
            && ngx_http_exchange_access_usec() - start >= (int64_t) usec)
        {
            return NGX_AGAIN;
        }

        eol = ngx_strlchr(rd->pos, rd->last, '\n');

        if (eol) {
            rc = ngx_http_exchange_access_file_line(rd, rd->pos, eol);
            rd->pos = eol + 1;

        } else if (rd->file.offset < rd->size) {
            rc = ngx_http_exchange_access_file_more(rd);

        } else {
            /* the last line, without a newline */

            rc = (rd->pos < rd->last)
                 ? ngx_http_exchange_access_file_line(rd, rd->pos, rd->last)
                 : NGX_OK;

            rd->pos = rd->last;
            rd->phase = NGX_HTTP_EXCHANGE_ACCESS_FILE_TAGS;

            ngx_exa_table_tags_start(&rd->tagger, rd->keys, rd->nkeys);
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    work = usec ? 16 * NGX_HTTP_EXCHANGE_ACCESS_FILE_CLOCK : (size_t) -1;

    while (rd->phase == NGX_HTTP_EXCHANGE_ACCESS_FILE_TAGS) {

        if (ngx_exa_table_tags_step(&rd->tagger, work) == 0) {
            rd->phase = NGX_HTTP_EXCHANGE_ACCESS_FILE_DONE;
            break;
        }

        if (usec && ngx_http_exchange_access_usec() - start >= (int64_t) usec) {
            return NGX_AGAIN;
        }
    }

    if (rd->tagger.n > NGX_EXA_TAGS_MAX) {
        ngx_log_error(NGX_LOG_EMERG, rd->file.log, 0,
                      "\"%V\" names more than %d NetBIOS domains "
                      "(exchange_access_list \"%V\")", &rd->file.name,
                      NGX_EXA_TAGS_MAX, &rd->list->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the line not parsed yet moved to the chunk's start, and more read */

static ngx_int_t
ngx_http_exchange_access_file_more(ngx_http_exchange_access_file_reader_t *rd)
{
    size_t   len, want;
    ssize_t  n;

    len = rd->last - rd->pos;

    if (len == NGX_HTTP_EXCHANGE_ACCESS_FILE_CHUNK) {
        ngx_log_error(NGX_LOG_EMERG, rd->file.log, 0,
                      "line %ui of \"%V\" is longer than %uzK "
                      "(exchange_access_list \"%V\")", rd->line + 1,
                      &rd->file.name,
                      (size_t) NGX_HTTP_EXCHANGE_ACCESS_FILE_CHUNK / 1024,
                      &rd->list->name);
        return NGX_ERROR;
    }

    ngx_memmove(rd->buf, rd->pos, len);
    rd->pos = rd->buf;
    rd->last = rd->buf + len;

    want = ngx_min((size_t) (rd->size - rd->file.offset),
                   NGX_HTTP_EXCHANGE_ACCESS_FILE_CHUNK - len);

    n = ngx_read_file(&rd->file, rd->last, want, rd->file.offset);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    if ((size_t) n != want) {
        ngx_log_error(NGX_LOG_EMERG, rd->file.log, 0,
                      ngx_read_file_n " \"%V\" returned only %z bytes "
                      "instead of %uz: it changed while it was read",
                      &rd->file.name, n, want);
        return NGX_ERROR;
    }

    rd->last += n;

    return NGX_OK;
}


/*
 * A line's name, normalised as a credential's; a NetBIOS domain is kept
 * as a lower-case tag of the key, "domain\user".
 */

static ngx_int_t
ngx_http_exchange_access_file_line(ngx_http_exchange_access_file_reader_t *rd,
    u_char *start, u_char *end)
{
    int     rc;
    u_char *k;
    size_t  klen;
    u_char  buf[NGX_EXA_KEY_MAX];

    rd->line++;

    while (start < end && (*start == ' ' || *start == '\t')) {
        start++;
    }

    while (end > start
           && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
    {
        end--;
    }

    if (start == end || *start == '#') {
        return NGX_OK;
    }

    rc = ngx_exa_name_entry(start, end - start, buf, &klen);

    if (rc != NGX_EXA_NAME_OK) {
        ngx_log_error(NGX_LOG_EMERG, rd->file.log, 0,
                      "%s in line %ui of \"%V\" "
                      "(exchange_access_list \"%V\")",
                      ngx_exa_name_strerror(rc), rd->line, &rd->file.name,
                      &rd->list->name);
        return NGX_ERROR;
    }

    if (ngx_exa_mem_grow(&rd->mem, (void **) &rd->keys, &rd->nalloc,
                         rd->nkeys + 1, sizeof(ngx_exa_str_t))
        != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, rd->file.log, ngx_errno,
                      "no memory for %uz names of \"%V\"", rd->nkeys + 1,
                      &rd->file.name);
        return NGX_ERROR;
    }

    k = ngx_pnalloc(rd->pool, klen);
    if (k == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(k, buf, klen);

    rd->keys[rd->nkeys].data = k;
    rd->keys[rd->nkeys].len = klen;
    rd->nkeys++;

    return NGX_OK;
}
