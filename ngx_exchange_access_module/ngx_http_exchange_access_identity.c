
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * Who a request is: the user name in its credential, or the identity of
 * its connection (the credential of the NTLM or Negotiate handshake the
 * backend accepted on the upstream connection that exchange_access_ntlm
 * keeps for it), mapped and normalised to a lookup key; and the request's
 * context, kept with its pool.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_request.h"


/* what the usual case calls only for anything else: not in its frame */
#if (defined __GNUC__)
#define ngx_http_exchange_access_noinline  __attribute__((noinline))
#else
#define ngx_http_exchange_access_noinline
#endif


static ngx_int_t ngx_http_exchange_access_user_any(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred);
static ngx_int_t ngx_http_exchange_access_map_user(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred,
    ngx_str_t *name);
static ngx_int_t ngx_http_exchange_access_full_name(ngx_http_request_t *r,
    ngx_exa_cred_t *cred, ngx_str_t *name);
static ngx_int_t ngx_http_exchange_access_parse(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_uint_t scheme,
    ngx_exa_cred_t *cred);
static void ngx_http_exchange_access_answered(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx, ngx_uint_t serial,
    ngx_uint_t status);
static ngx_inline void ngx_http_exchange_access_conn_session(
    ngx_http_request_t *r,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_ctx_t *ctx);
static ngx_uint_t ngx_http_exchange_access_conn_bound(ngx_http_request_t *r);
static void ngx_http_exchange_access_conn_cleanup(void *data);
static void ngx_http_exchange_access_cleanup(void *data);
static ngx_int_t ngx_http_exchange_access_set_key(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx, const u_char *key, size_t len);
static ngx_http_exchange_access_last_t *ngx_http_exchange_access_basic_seen(
    ngx_http_exchange_access_last_t *last, ngx_table_elt_t *h);
static void ngx_http_exchange_access_basic_keep(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, size_t klen);
static void ngx_http_exchange_access_last_cleanup(void *data);
static ngx_inline void *ngx_http_exchange_access_pool_data(ngx_pool_t *pool,
    ngx_pool_cleanup_pt handler, size_t size, size_t zero);


/*
 * The name a credential gives, mapped (exchange_access_user_map) and
 * normalised: ctx->user is the lookup key, or the whole name when it is
 * of a foreign domain.  Returns NGX_EXA_USER_OK, _FOREIGN or _INVALID
 * (cred->detail says why), or NGX_ERROR.
 */

ngx_int_t
ngx_http_exchange_access_user(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred)
{
    size_t                             klen;
    u_char                             key[NGX_EXA_KEY_MAX];
    ngx_http_exchange_access_last_t  *basic;

    ctx->mapped_from.len = 0;

    /* the Basic header the connection sent before, as it resolved then */

    basic = ctx->basic;

    if (basic && ctx->connection == 0) {
        ngx_memcpy(ctx->key, basic->key, NGX_HTTP_EXCHANGE_ACCESS_KEY);
        ctx->user.data = ctx->key;
        ctx->user.len = basic->klen;
        ctx->domain = basic->domain;

        return NGX_EXA_USER_OK;
    }

    /*
     * the request's own credential in a location without a user map, the
     * usual case, in a frame of its own: the rest needs a larger one
     */

    if (ctx->connection == 0 && eacf->user_maps == NULL
        && ngx_exa_name_resolve(&eacf->names, cred->domain, cred->domain_len,
                                cred->user, cred->user_len, key, &klen,
                                &ctx->domain)
           == NGX_EXA_NAME_OK)
    {
        if (ngx_http_exchange_access_set_key(r, ctx, key, klen) != NGX_OK) {
            return NGX_ERROR;
        }

        if (cred->scheme == NGX_EXA_AUTH_BASIC && ctx->pending == NULL) {
            ngx_http_exchange_access_basic_keep(r, eacf, ctx, klen);
        }

        return NGX_EXA_USER_OK;
    }

    return ngx_http_exchange_access_user_any(r, eacf, ctx, cred);
}


/*
 * ctx->user: the key (or what of it a failed resolution left) in the
 * context when it fits there, else in the request's pool
 */

static ngx_int_t
ngx_http_exchange_access_set_key(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx, const u_char *key, size_t len)
{
    u_char  *p;

    p = ctx->key;

    if (len > NGX_HTTP_EXCHANGE_ACCESS_KEY) {
        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(p, key, len);

    ctx->user.data = p;
    ctx->user.len = len;

    return NGX_OK;
}


/* any credential: ngx_http_exchange_access_user() */

static ngx_http_exchange_access_noinline ngx_int_t
ngx_http_exchange_access_user_any(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred)
{
    int                               rc;
    size_t                            klen;
    ngx_str_t                         name;
    u_char                            key[NGX_EXA_KEY_MAX];
    ngx_http_exchange_access_conn_t  *conn;

    /* the connection's identity, as it resolved here before */

    if (ngx_http_exchange_access_conn_key(eacf, ctx)) {
        return NGX_EXA_USER_OK;
    }

    ctx->mapped_from.len = 0;

    conn = ctx->connection ? ctx->conn : NULL;

    if (eacf->user_maps) {

        if (ngx_http_exchange_access_map_user(r, eacf, ctx, cred, &name)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ctx->mapped_from.len) {
            rc = ngx_exa_name_resolve(&eacf->names, NULL, 0, name.data,
                                      name.len, key, &klen, &ctx->domain);
            goto mapped;
        }
    }

    rc = ngx_exa_name_resolve(&eacf->names, cred->domain, cred->domain_len,
                              cred->user, cred->user_len, key, &klen,
                              &ctx->domain);

mapped:

    if (ngx_http_exchange_access_set_key(r, ctx, key, klen) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (rc) {

    case NGX_EXA_NAME_OK:

        /* no map rewrote the name of a Basic header: the header says it all */

        if (ctx->mapped_from.len == 0 && ctx->connection == 0
            && cred->scheme == NGX_EXA_AUTH_BASIC && ctx->pending == NULL)
        {
            ngx_http_exchange_access_basic_keep(r, eacf, ctx, klen);
        }

        if (conn && eacf->user_maps == NULL) {
            ngx_memcpy(conn->resolved_key, key, klen);
            conn->resolved_len = klen;
            conn->resolved_domain = ctx->domain;
            conn->resolved = eacf;
            conn->answer.list = NULL;
            ctx->answer = &conn->answer;
        }

        return NGX_EXA_USER_OK;

    case NGX_EXA_NAME_FOREIGN:

        /*
         * show the whole name: it tells which domain was refused.  The
         * credential is the caller's, on its stack: $exchange_user is
         * read in the log phase, so the name is copied to the request.
         */

        if (ngx_http_exchange_access_full_name(r, cred, &ctx->user)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_EXA_USER_FOREIGN;

    default:
        cred->detail = ngx_exa_name_strerror(rc);
        return NGX_EXA_USER_INVALID;
    }
}


/*
 * exchange_access_user_map: the first rule that matches the name as the
 * credential gave it ("DOMAIN\user" or "user") rewrites it; the request's
 * own regex captures are left as they were.
 */

static ngx_int_t
ngx_http_exchange_access_map_user(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred,
    ngx_str_t *name)
{
#if (NGX_PCRE)
    int                                  *captures;
    u_char                               *captures_data;
    u_char                                head[2];
    size_t                                i, len;
    ngx_int_t                             rc;
    ngx_str_t                             orig;
    ngx_uint_t                            ncaptures;
    ngx_exa_rules_t                      *by_prefix;
    ngx_http_exchange_access_user_map_t  *map;

    /*
     * the first two bytes of the name and its length tell the rules it
     * may match: when they leave none, the name is not made
     */

    if (cred->domain_len) {
        head[0] = cred->domain[0];
        head[1] = (cred->domain_len > 1) ? cred->domain[1] : '\\';
        len = cred->domain_len + 1 + cred->user_len;

    } else {
        head[0] = (cred->user_len > 0) ? cred->user[0] : '\0';
        head[1] = (cred->user_len > 1) ? cred->user[1] : '\0';
        len = cred->user_len;
    }

    by_prefix = eacf->user_map_index;

    if (ngx_exa_rules_next(by_prefix, head, len, 0) == NGX_EXA_RULES_END) {
        return NGX_OK;
    }

    if (ngx_http_exchange_access_full_name(r, cred, &orig) != NGX_OK) {
        return NGX_ERROR;
    }

    captures = r->captures;
    ncaptures = r->ncaptures;
    captures_data = r->captures_data;

    r->captures = NULL;

    map = eacf->user_maps->elts;
    rc = NGX_DECLINED;

    /* the rules the first two bytes of the name leave, in their order */

    for (i = ngx_exa_rules_next(by_prefix, orig.data, orig.len, 0);
         i != NGX_EXA_RULES_END;
         i = ngx_exa_rules_next(by_prefix, orig.data, orig.len, i + 1))
    {
        if (!ngx_exa_literals_may_match(&map[i].lit, orig.data, orig.len)) {
            continue;
        }

        rc = ngx_http_regex_exec(r, map[i].regex, &orig);

        if (rc == NGX_DECLINED) {
            continue;
        }

        if (rc == NGX_OK
            && ngx_http_complex_value(r, &map[i].value, name) != NGX_OK)
        {
            rc = NGX_ERROR;
        }

        break;
    }

    r->captures = captures;
    r->ncaptures = ncaptures;
    r->captures_data = captures_data;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        ctx->mapped_from = orig;

#if (NGX_DEBUG)
        if (r->connection->log->log_level & NGX_LOG_DEBUG_HTTP) {
            ngx_str_t  from, to;

            ngx_http_exchange_access_log_escape(r->pool, &orig, &from);
            ngx_http_exchange_access_log_escape(r->pool, name, &to);

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "exchange access: user \"%V\" mapped to \"%V\"",
                           &from, &to);
        }
#endif
    }

    return NGX_OK;

#else
    return NGX_OK;
#endif
}


/*
 * What a client chose (a name, a path), made fit for a log line by the
 * one escaping rule of the module, ngx_exa_log_escape(); in the request's
 * pool when anything had to be escaped.
 */

void
ngx_http_exchange_access_log_escape(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst)
{
    size_t   len;
    u_char  *p;

    len = ngx_exa_log_escape(NULL, src->data, src->len);

    if (len == src->len) {
        *dst = *src;
        return;
    }

    p = ngx_pnalloc(pool, len);

    if (p == NULL) {
        ngx_str_set(dst, "-");
        return;
    }

    dst->len = ngx_exa_log_escape(p, src->data, src->len);
    dst->data = p;
}


/*
 * "DOMAIN\\user" or "user", as the credential gave it, copied to the
 * request's pool: a credential lives on the stack of the caller.
 */

static ngx_int_t
ngx_http_exchange_access_full_name(ngx_http_request_t *r,
    ngx_exa_cred_t *cred, ngx_str_t *name)
{
    u_char  *p;

    name->len = cred->domain_len + (cred->domain_len ? 1 : 0)
                + cred->user_len;

    name->data = ngx_pnalloc(r->pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = name->data;

    if (cred->domain_len) {
        p = ngx_cpymem(p, cred->domain, cred->domain_len);
        *p++ = '\\';
    }

    ngx_memcpy(p, cred->user, cred->user_len);

    return NGX_OK;
}


/*
 * The credential of a request with an Authorization header
 * (ngx_http_exchange_access_credential()): the header's.
 */

ngx_int_t
ngx_http_exchange_access_header_credential(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred, int *header)
{
    ngx_table_elt_t                   *h;
    ngx_http_exchange_access_last_t  *basic;

    /* what ngx_http_exchange_access_handshake() found, for this location */

    basic = ctx->basic;
    ctx->basic = NULL;
    ctx->answer = NULL;

    h = r->headers_in.authorization;

    if (ctx->pending) {
        ngx_http_exchange_access_cred_copy(cred, ctx->pending, 1);

    } else if (basic && basic->loc == eacf) {
        /* a user name, not read again (ngx_http_exchange_access_user) */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "exchange access: the Basic header of the "
                       "connection's last request, not read again");

        ctx->basic = basic;
        ctx->answer = &basic->answer;
        ngx_memzero(cred, offsetof(ngx_exa_cred_t, domain));
        cred->scheme = NGX_EXA_AUTH_BASIC;
        cred->status = NGX_EXA_CRED_USER;

    } else if (ngx_exa_credential_parse_fast(ctx->header_scheme,
                                             h->value.data, h->value.len,
                                             cred)
               >= 0)
    {
        /* read without scratch space: nothing to wipe */

    } else if (ngx_http_exchange_access_parse(r, eacf, ctx->header_scheme,
                                              cred)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->scheme = cred->scheme;

    *header = (cred->status == NGX_EXA_CRED_USER)
              ? NGX_EXA_HEADER_USER
              : (cred->status == NGX_EXA_CRED_HANDSHAKE)
              ? NGX_EXA_HEADER_HANDSHAKE : NGX_EXA_HEADER_UNIDENTIFIED;

    return NGX_OK;
}


/*
 * The Authorization header, its scheme already read by
 * ngx_exa_scheme_of() (ngx_http_exchange_access_handshake())
 */

static ngx_int_t
ngx_http_exchange_access_parse(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_uint_t scheme,
    ngx_exa_cred_t *cred)
{
    size_t      worklen;
    u_char     *work;
    ngx_str_t  *value;
    u_char      stack[NGX_HTTP_EXCHANGE_ACCESS_STACK];

    value = &r->headers_in.authorization->value;
    worklen = value->len / 4 * 3 + 3;

    if (worklen <= sizeof(stack)) {
        work = stack;
        worklen = sizeof(stack);

    } else {
        work = ngx_pnalloc(r->pool, worklen);
        if (work == NULL) {
            return NGX_ERROR;
        }
    }

    (void) ngx_exa_credential_parse_as(&eacf->cred, scheme, value->data,
                                       value->len, work, worklen, cred);

    /* the scratch buffer of a Basic credential holds a password */

    if (ngx_exa_scheme_flags(cred->scheme) & NGX_EXA_SCHEME_SECRET) {
        ngx_explicit_memzero(work, ngx_min(worklen, value->len));
    }

    return NGX_OK;
}


/*
 * An NTLM or Negotiate credential, in any location, even one where
 * exchange_access is off: kept with the request until the backend
 * answers it (ngx_http_exchange_access_answered()).  The scheme of the
 * Authorization header is read here, once, for the context: the handler
 * calls this before ngx_http_exchange_access_credential().
 */

ngx_int_t
ngx_http_exchange_access_handshake(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_uint_t                             scheme;
    ngx_exa_cred_t                        *cred;
    ngx_table_elt_t                       *h;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    /* the Basic header the connection sent before: no need to read it */

    if (ctx) {
        ctx->basic = ngx_http_exchange_access_basic_seen(ctx->last, h);

        if (ctx->basic) {
            ctx->header_scheme = NGX_EXA_AUTH_BASIC;
            return NGX_DECLINED;
        }
    }

    scheme = ngx_exa_scheme_of(h->value.data, h->value.len);

    if (ctx) {
        ctx->header_scheme = scheme;
    }

    if (!(ngx_exa_scheme_flags(scheme) & NGX_EXA_SCHEME_CONNECTION)
        || !ngx_http_exchange_access_conn_bound(r))
    {
        return NGX_DECLINED;
    }

    eamcf = ngx_http_get_module_main_conf(r, ngx_http_exchange_access_module);

    if (!eamcf->enabled) {
        return NGX_DECLINED;
    }

    if (ctx == NULL) {
        ctx = ngx_http_exchange_access_get_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->header_scheme = scheme;
    }

    if (ctx->pending) {
        return NGX_DECLINED;
    }

    cred = ngx_palloc(r->pool, sizeof(ngx_exa_cred_t));
    if (cred == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_exchange_access_parse(r, eacf, scheme, cred) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_exa_scheme_flags(cred->scheme) & NGX_EXA_SCHEME_CONNECTION) {
        ctx->pending = cred;
    }

    return NGX_DECLINED;
}


/*
 * exchange_access_ntlm is done with an upstream connection of a client
 * connection it keeps upstream connections for (the connection numbered
 * "serial"), after the upstream answered "status".  The identity hears of
 * it if the request carried an NTLM or Negotiate credential.  (Not a
 * header filter: in a static build this module comes before nginx's
 * header filter, and an intercepted 401 counts too.)
 */

void
ngx_http_exchange_access_upstream_answered(ngx_http_request_t *r,
    ngx_uint_t serial, ngx_uint_t status)
{
    ngx_http_exchange_access_ctx_t        *ctx;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_get_module_main_conf(r, ngx_http_exchange_access_module);

    if (r != r->main || !eamcf->enabled) {
        return;
    }

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx == NULL || ctx->pending == NULL) {
        return;
    }

    ngx_http_exchange_access_answered(r, ctx, serial, status);

    ctx->pending = NULL;
}


/*
 * The backend answered a request that carried an NTLM or Negotiate
 * credential, on the upstream connection numbered "serial" that is kept
 * for this client connection.  A final answer other than 401 to a
 * credential that is more than a Type 1 makes it the connection's
 * identity; a 401 clears an identity the backend accepted there before.
 */

static void
ngx_http_exchange_access_answered(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx, ngx_uint_t serial,
    ngx_uint_t status)
{
    ngx_http_exchange_access_conn_t  *conn;

    conn = ngx_http_exchange_access_connection(r, 1);
    if (conn == NULL) {
        return;
    }

    if (conn->serial != serial) {

        /* what was accepted on another upstream connection is gone */

        conn->serial = serial;
        conn->state = NGX_HTTP_EXCHANGE_ACCESS_CONN_NONE;
        ngx_http_exchange_access_session_stop(&conn->session);
    }

    if (status == NGX_HTTP_UNAUTHORIZED) {

        if (conn->state == NGX_HTTP_EXCHANGE_ACCESS_CONN_ACCEPTED) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "exchange access: the backend refused a new "
                           "handshake on upstream connection %ui", serial);

            conn->state = NGX_HTTP_EXCHANGE_ACCESS_CONN_CLEARED;
            ngx_http_exchange_access_session_stop(&conn->session);
        }

        return;
    }

    if (status < NGX_HTTP_OK
        || ctx->pending->status == NGX_EXA_CRED_HANDSHAKE)
    {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "exchange access: the backend accepted the %s "
                   "credential on upstream connection %ui with %ui",
                   ngx_exa_scheme_name(ctx->pending->scheme), serial, status);

    conn->cred = *ctx->pending;
    conn->state = NGX_HTTP_EXCHANGE_ACCESS_CONN_ACCEPTED;
    conn->resolved = NULL;
    conn->answer.list = NULL;

    if (ctx->session.list && ctx->pending->status == NGX_EXA_CRED_USER) {

        /* a list allowed this very handshake */

        ngx_http_exchange_access_conn_session(r, conn, ctx);

    } else {
        ngx_http_exchange_access_session_stop(&conn->session);
        conn->session.len = 0;
    }
}


/* an allowed request is a session of its user on its list */

void
ngx_http_exchange_access_remember(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_list_t *list)
{
    ngx_http_exchange_access_conn_t     *conn;
    ngx_http_exchange_access_session_t  *s;

    s = &ctx->session;

    s->list = list;
    s->connection = r->connection;
    s->request = r;
    s->key = ctx->user.data;
    s->len = ctx->user.len;
    s->protocol = ctx->protocol;
    s->started = r->start_sec;
    s->audit = (eacf->mode == NGX_HTTP_EXCHANGE_ACCESS_AUDIT);

    /* looked up again as it was now: see ngx_http_exchange_access_decide() */

    if (ctx->domain == NGX_EXA_NAME_ANY_DOMAIN) {
        s->domain = NULL;
        s->domain_len = 0;
        s->first = 0;

    } else {
        s->domain = (u_char *) eacf->names.domains[ctx->domain].data;
        s->domain_len = eacf->names.domains[ctx->domain].len;
        s->first = (ctx->domain == 0);
    }

    ngx_http_exchange_access_session_start(s);

    if (ctx->connection) {
        conn = ctx->conn;

        if (conn) {
            ngx_http_exchange_access_conn_session(r, conn, ctx);
        }
    }
}


/*
 * The connection is a session of its user on the list that allowed its
 * last request: the same user, since the connection's identity decided.
 */

static ngx_inline void
ngx_http_exchange_access_conn_session(ngx_http_request_t *r,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_http_exchange_access_session_t  *s;

    s = &conn->session;

    /*
     * the same user's session, linked: its connection, its key and their
     * length are this connection's and this key already
     */

    if (!s->linked
        || s->len != ctx->user.len
        || ngx_memcmp(conn->key, ctx->user.data, s->len) != 0)
    {
        /* a new session: its start and its key (the same user's is there) */

        s->started = ngx_time();
        ngx_memcpy(conn->key, ctx->user.data, ctx->user.len);

        s->connection = r->connection;
        s->request = NULL;
        s->key = conn->key;
        s->len = ctx->user.len;
    }

    s->list = ctx->session.list;
    s->domain = ctx->session.domain;
    s->domain_len = ctx->session.domain_len;
    s->first = ctx->session.first;
    s->protocol = ctx->protocol;
    s->audit = ctx->session.audit;

    if (!s->linked) {
        ngx_http_exchange_access_session_start(s);
    }
}


/*
 * Whether the request has the client's connection to itself.  Every
 * stream of an HTTP/2 connection gets a copy of the same connection
 * structure, with the same pool: an identity kept there would decide the
 * requests of every other stream.  NTLM and Negotiate authenticate
 * HTTP/1.x connections only, so a stream is decided on its own header.
 */

static ngx_uint_t
ngx_http_exchange_access_conn_bound(ngx_http_request_t *r)
{
#if (NGX_HTTP_V2)
    if (r->stream) {
        return 0;
    }
#endif

    return r->http_version < NGX_HTTP_VERSION_20;
}


ngx_http_exchange_access_conn_t *
ngx_http_exchange_access_connection(ngx_http_request_t *r, ngx_uint_t create)
{
    if (!ngx_http_exchange_access_conn_bound(r)) {
        return NULL;
    }

    return ngx_http_exchange_access_pool_data(r->connection->pool,
                   ngx_http_exchange_access_conn_cleanup,
                   create ? sizeof(ngx_http_exchange_access_conn_t) : 0,
                   sizeof(ngx_http_exchange_access_conn_t));
}


static void
ngx_http_exchange_access_conn_cleanup(void *data)
{
    ngx_http_exchange_access_conn_t  *conn = data;

    ngx_http_exchange_access_session_stop(&conn->session);
    ngx_explicit_memzero(conn, sizeof(ngx_http_exchange_access_conn_t));
}


ngx_http_exchange_access_ctx_t *
ngx_http_exchange_access_get_ctx(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_exchange_access_module);

    if (ctx) {
        return ctx;
    }

    /*
     * the module context is wiped by internal redirects: find it again.
     * The key of a new one is not zeroed: it is read only through
     * ctx->user, after ngx_http_exchange_access_user() wrote it.
     */

    ctx = ngx_http_exchange_access_pool_data(r->pool,
                            ngx_http_exchange_access_cleanup,
                            sizeof(ngx_http_exchange_access_ctx_t),
                            offsetof(ngx_http_exchange_access_ctx_t, key));
    if (ctx) {
        ngx_http_set_ctx(r, ctx, ngx_http_exchange_access_module);
    }

    return ctx;
}


/*
 * The Basic credential a keep-alive connection sent before, if this
 * request's header is byte for byte the same
 * (ngx_http_exchange_access_last_t); it is this location's if basic->loc
 * is.  Only the bytes compared say that it is the same user: a proxy in
 * front may send the requests of several users down one connection.
 */

static ngx_http_exchange_access_last_t *
ngx_http_exchange_access_basic_seen(ngx_http_exchange_access_last_t *last,
    ngx_table_elt_t *h)
{
    if (last == NULL
        || last->loc == NULL
        || last->len != h->value.len
        || ngx_memcmp(last->value, h->value.data, h->value.len) != 0)
    {
        return NULL;
    }

    return last;
}


/*
 * What the client connection keeps for the request, in one look at its
 * pool: its identity (ctx->conn, ngx_http_exchange_access_connection())
 * and what its last requests left (ctx->last).
 */

void
ngx_http_exchange_access_conn_data(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    ctx->conn = NULL;
    ctx->last = NULL;

    if (!ngx_http_exchange_access_conn_bound(r)) {
        return;
    }

    for (cln = r->connection->pool->cleanup; cln; cln = cln->next) {

        if (cln->handler == ngx_http_exchange_access_conn_cleanup) {
            ctx->conn = cln->data;

        } else if (cln->handler == ngx_http_exchange_access_last_cleanup) {
            ctx->last = cln->data;
        }
    }
}


/* what the connection's last requests left (ngx_http_exchange_access_last_t) */

ngx_http_exchange_access_last_t *
ngx_http_exchange_access_last(ngx_http_request_t *r, ngx_uint_t create)
{
    size_t  size;

    if (r->connection->requests < 2
        || !ngx_http_exchange_access_conn_bound(r))
    {
        return NULL;
    }

    size = sizeof(ngx_http_exchange_access_last_t);

    return ngx_http_exchange_access_pool_data(r->connection->pool,
                                 ngx_http_exchange_access_last_cleanup,
                                 create ? size : 0, size);
}


/*
 * A Basic header that resolved to a key no user map rewrote, kept for the
 * next request of the connection from the second request of a keep-alive
 * connection on (a connection of one request never reads it back).  A
 * header or a key too long for the space is not kept.
 */

static void
ngx_http_exchange_access_basic_keep(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, size_t klen)
{
    ngx_table_elt_t                   *h;
    ngx_http_exchange_access_last_t  *basic;

    h = r->headers_in.authorization;

    if (h == NULL
        || h->value.len > NGX_HTTP_EXCHANGE_ACCESS_BASIC_VALUE
        || klen > NGX_HTTP_EXCHANGE_ACCESS_KEY)
    {
        return;
    }

    basic = ngx_http_exchange_access_last(r, 1);
    if (basic == NULL) {
        return;
    }

    ctx->last = basic;

    /* the password of the header kept before goes */

    if (basic->len > h->value.len) {
        ngx_explicit_memzero(basic->value + h->value.len,
                             basic->len - h->value.len);
    }

    basic->loc = eacf;
    basic->answer.list = NULL;
    basic->len = h->value.len;
    ngx_memcpy(basic->value, h->value.data, h->value.len);
    basic->klen = klen;
    basic->domain = ctx->domain;
    ngx_memcpy(basic->key, ctx->user.data, klen);

    /* the list's answer is kept too (ngx_http_exchange_access_lookup) */

    ctx->answer = &basic->answer;
}


static void
ngx_http_exchange_access_last_cleanup(void *data)
{
    ngx_explicit_memzero(data, sizeof(ngx_http_exchange_access_last_t));
}


/*
 * Data kept with a pool (the request's, or the connection's), found again
 * by the cleanup handler that marks it; created if size is not 0, its
 * first "zero" bytes zeroed.
 */

static ngx_inline void *
ngx_http_exchange_access_pool_data(ngx_pool_t *pool,
    ngx_pool_cleanup_pt handler, size_t size, size_t zero)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == handler) {
            return cln->data;
        }
    }

    if (size == 0) {
        return NULL;
    }

    /* as ngx_pool_cleanup_add() does, with the data in the same allocation */

    cln = ngx_palloc(pool, sizeof(ngx_pool_cleanup_t) + size);
    if (cln == NULL) {
        return NULL;
    }

    cln->data = cln + 1;
    ngx_memzero(cln->data, zero);

    cln->handler = handler;
    cln->next = pool->cleanup;
    pool->cleanup = cln;

    return cln->data;
}


static void
ngx_http_exchange_access_cleanup(void *data)
{
    ngx_http_exchange_access_ctx_t  *ctx = data;

    /* marks the context in r->pool->cleanup; the request's session ends */

    ngx_http_exchange_access_session_stop(&ctx->session);
}


ngx_http_exchange_access_ctx_t *
ngx_http_exchange_access_var_ctx(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    r = r->main;

    ctx = ngx_http_get_module_ctx(r, ngx_http_exchange_access_module);

    if (ctx) {
        return ctx;
    }

    return ngx_http_exchange_access_pool_data(r->pool,
                                              ngx_http_exchange_access_cleanup,
                                              0, 0);
}
