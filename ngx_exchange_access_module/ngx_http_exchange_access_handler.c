
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * The access-phase handler: classify the request, identify its user,
 * look the user up, decide; and the log phase, that counts the decision.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_request.h"


static ngx_int_t ngx_http_exchange_access_decide(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_classify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_class_t *cls);
static ngx_inline ngx_uint_t ngx_http_exchange_access_line_plain(
    ngx_http_request_t *r, ngx_exa_request_t *req);
static void ngx_http_exchange_access_classify_headers(ngx_http_request_t *r,
    ngx_exa_request_t *req, ngx_exa_str_t *logons);
static void ngx_http_exchange_access_path_len(ngx_http_request_t *r,
    ngx_exa_request_t *req);
#if (NGX_PCRE)
static ngx_int_t ngx_http_exchange_access_site_rules(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_class_t *cls);
#endif
static ngx_int_t ngx_http_exchange_access_facts(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_list_t *list, ngx_exa_facts_t *f,
    ngx_exa_verdict_t *v, ngx_exa_cred_t *cred);
static ngx_inline int ngx_http_exchange_access_lookup(ngx_log_t *log,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_list_t *list);
static ngx_int_t ngx_http_exchange_access_verdict(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_verdict_t *v,
    const char *detail, ngx_http_exchange_access_list_t *list);
static ngx_int_t ngx_http_exchange_access_deny(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf);


ngx_int_t
ngx_http_exchange_access_handler(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t       *ctx;
    ngx_http_exchange_access_loc_conf_t  *eacf;

    eacf = ngx_http_get_module_loc_conf(r, ngx_http_exchange_access_module);

    if (eacf->mode == NGX_HTTP_EXCHANGE_ACCESS_OFF) {

        /* a handshake counts wherever it is made */

        return ngx_http_exchange_access_handshake(r, eacf, NULL);
    }

    ctx = ngx_http_exchange_access_get_ctx(r);

    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the identity of the connection, what its last requests left */

    ngx_http_exchange_access_conn_data(r, ctx);

    if (ctx->decision == NGX_EXA_DECISION_DENY) {

        /* an internal redirect to the error page of our own denial */

        return NGX_DECLINED;
    }

    /* without an Authorization header there is no handshake to read */

    if (r->headers_in.authorization
        && ngx_http_exchange_access_handshake(r, eacf, ctx) != NGX_DECLINED)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_exchange_access_decide(r, eacf, ctx);
}


/*
 * The decision is ngx_exa_decide()'s (README.md's table); this finds out
 * the facts it asks for, and records what it decided.
 */

static ngx_int_t
ngx_http_exchange_access_decide(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx)
{
    const char                       *detail;
    ngx_exa_cred_t                    cred;
    ngx_exa_class_t                   cls;
    ngx_exa_facts_t                   f;
    ngx_exa_verdict_t                 v;
    ngx_http_exchange_access_conn_t  *conn;
    ngx_http_exchange_access_list_t  *list;

    /* what an earlier location of this request allowed is decided again */

    ngx_http_exchange_access_session_stop(&ctx->session);
    ctx->session.list = NULL;

    if (ngx_http_exchange_access_classify(r, eacf, ctx, &cls) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cls.flags & NGX_EXA_CONFUSED) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "exchange access: path %s reaches %s: %s",
                       ngx_exa_protocol_name(cls.path),
                       ngx_exa_protocol_name(cls.protocol), cls.why);
    }

    list = eacf->lists[cls.protocol];
    conn = ctx->conn;

    ngx_memzero(&f, sizeof(ngx_exa_facts_t));

    f.audit = (eacf->mode == NGX_HTTP_EXCHANGE_ACCESS_AUDIT);
    f.restricted = (list != NULL);
    f.confused = (cls.flags & NGX_EXA_CONFUSED) ? 1 : 0;
    f.confusion_deny = eacf->confusion ? 1 : 0;
    f.unidentified_deny = eacf->unidentified ? 1 : 0;
    f.identity = ngx_http_exchange_access_identity(r, conn);

    /* without exchange_access_internal the answer is known: no need to ask */

    if (eacf->internal == NULL) {
        f.internal = NGX_EXA_INTERNAL_NO;
    }

    cred.detail = NULL;

    if (ngx_http_exchange_access_facts(r, eacf, ctx, conn, list, &f, &v,
                                       &cred)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (v.reason) {

    case NGX_EXA_REASON_UNRESTRICTED:

        /* keep what an earlier location decided about this request */

        if (ctx->decision == NGX_EXA_DECISION_NONE
            || ctx->decision == NGX_EXA_DECISION_PASS)
        {
            ctx->protocol = cls.protocol;
            ctx->decision = NGX_EXA_DECISION_PASS;
            ctx->reason = NGX_EXA_REASON_UNRESTRICTED;
        }

        return NGX_DECLINED;

    case NGX_EXA_REASON_REVOKED:

        /* a connection whose user left a list: refused, and closed */

        ctx->user.data = conn->key;
        ctx->user.len = conn->session.len;
        ctx->scheme = conn->cred.scheme;
        ctx->connection = 1;
        r->keepalive = 0;

        list = conn->session.list;
        detail = NULL;
        break;

    case NGX_EXA_REASON_PATH_CONFUSION:
        detail = cls.why;
        break;

    case NGX_EXA_REASON_UNIDENTIFIED:
    case NGX_EXA_REASON_FOREIGN_DOMAIN:
        detail = cred.detail;
        break;

    default:
        detail = NULL;
    }

    ctx->protocol = cls.protocol;

    if (f.user == NGX_EXA_USER_UNKNOWN) {

        /* no name was read */

        if (v.reason != NGX_EXA_REASON_REVOKED) {
            ctx->user.len = 0;
        }

        if (v.decision == NGX_EXA_DECISION_PASS
            && v.reason == NGX_EXA_REASON_UNIDENTIFIED)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "exchange access: unidentified %s credential "
                           "passed", ngx_exa_scheme_name(cred.scheme));
        }
    }

    return ngx_http_exchange_access_verdict(r, eacf, ctx, &v, detail, list);
}


/* the facts ngx_exa_decide() asks for, until it decides */

static ngx_int_t
ngx_http_exchange_access_facts(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_list_t *list, ngx_exa_facts_t *f,
    ngx_exa_verdict_t *v, ngx_exa_cred_t *cred)
{
    ngx_int_t  rc;

    /*
     * A restricted request from outside, neither confused nor on a revoked
     * connection: ngx_exa_decide() asks for its credential, then for the
     * user it names (or the connection's, without a header), then for the
     * list's answer on a name that resolved (test_decide.c checks that
     * order for every combination).  Found out here in that order, the
     * loop below decides at once; it still asks for anything else.
     */

    if (f->restricted
        && f->internal == NGX_EXA_INTERNAL_NO
        && !f->confused
        && f->identity != NGX_EXA_IDENTITY_REVOKED)
    {
        if (ngx_http_exchange_access_credential(r, eacf, ctx, conn,
                                                f->identity, cred, &f->header)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (f->header == NGX_EXA_HEADER_NONE
            && f->identity == NGX_EXA_IDENTITY_USER
            && ngx_http_exchange_access_conn_key(eacf, ctx))
        {
            /* what ngx_http_exchange_access_user() would give, at once */

            f->user = NGX_EXA_USER_OK;

        } else if (f->header == NGX_EXA_HEADER_USER
                   || (f->header == NGX_EXA_HEADER_NONE
                       && f->identity == NGX_EXA_IDENTITY_USER))
        {
            rc = ngx_http_exchange_access_user(r, eacf, ctx, cred);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            f->user = rc;
        }

        if (f->user == NGX_EXA_USER_OK) {
            f->list = ngx_http_exchange_access_lookup(r->connection->log,
                                                      eacf, ctx, list);
        }
    }

    while (ngx_exa_decide(f, v) == NGX_EXA_DECISION_NONE) {

        switch (v->need) {

        case NGX_EXA_NEED_INTERNAL:
            f->internal = (eacf->internal
                           && ngx_cidr_match(r->connection->sockaddr,
                                             eacf->internal)
                              == NGX_OK)
                          ? NGX_EXA_INTERNAL_YES : NGX_EXA_INTERNAL_NO;
            break;

        case NGX_EXA_NEED_CREDENTIAL:
            if (ngx_http_exchange_access_credential(r, eacf, ctx, conn,
                                                    f->identity, cred,
                                                    &f->header)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            break;

        case NGX_EXA_NEED_USER:
            rc = ngx_http_exchange_access_user(r, eacf, ctx, cred);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            f->user = rc;
            break;

        case NGX_EXA_NEED_LIST:
            f->list = ngx_http_exchange_access_lookup(r->connection->log,
                                                      eacf, ctx, list);
            break;

        default:
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A sAMAccountName matches the entries of its own domain only (bare
 * entries are the first domain's); a UPN, or any name without
 * exchange_access_domain, matches whatever domain it was listed for.
 */

static ngx_inline int
ngx_http_exchange_access_lookup(ngx_log_t *log,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_list_t *list)
{
    int                                 answer;
    ngx_int_t                           rc;
    ngx_uint_t                          generation;
    ngx_exa_table_t                    *t;
    const ngx_exa_str_t                *netbios;
    ngx_http_exchange_access_answer_t  *kept;

    /*
     * a key the connection keeps: the list's answer then, while the list
     * has the same table (the installing worker stores the generation
     * before the table, so a table read first with a generation read after
     * it that both match were not replaced since)
     */

    kept = ctx->answer;
    t = NULL;
    generation = 0;

    if (kept) {
        t = list->sh->table;
        ngx_memory_barrier();
        generation = list->sh->generation;

        if (kept->list == list && kept->table == t
            && kept->generation == generation && t != NULL)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                           "exchange access: the list's answer of the "
                           "connection's last request, generation %ui",
                           generation);

            return kept->member;
        }
    }

    if (ctx->domain == NGX_EXA_NAME_ANY_DOMAIN) {
        rc = ngx_http_exchange_access_list_lookup(list, ctx->user.data,
                                                  ctx->user.len, NULL, 0, 0);

    } else {
        netbios = &eacf->names.domains[ctx->domain];

        rc = ngx_http_exchange_access_list_lookup(list, ctx->user.data,
                                                  ctx->user.len,
                                                  netbios->data, netbios->len,
                                                  ctx->domain == 0);
    }

    answer = (rc == NGX_OK) ? NGX_EXA_LIST_MEMBER
             : (rc == NGX_DECLINED) ? NGX_EXA_LIST_NOT_MEMBER
             : NGX_EXA_LIST_UNAVAILABLE;

    if (kept && answer != NGX_EXA_LIST_UNAVAILABLE) {
        kept->list = list;
        kept->table = t;
        kept->generation = generation;
        kept->member = answer;
    }

    return answer;
}


/*
 * Classifies by what Exchange will serve: nginx's normalised path, the
 * path as it goes upstream (the client's bytes unless nginx rewrote the
 * request), the query string and the cookies.
 */

static ngx_int_t
ngx_http_exchange_access_classify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_class_t *cls)
{
    u_char              *work;
    size_t               worklen;
    ngx_uint_t           n;
    ngx_table_elt_t     *h;
    ngx_exa_request_t    req;
    ngx_exa_str_t        cookies[NGX_HTTP_EXCHANGE_ACCESS_COOKIES];
    ngx_exa_str_t        logons[NGX_HTTP_EXCHANGE_ACCESS_COOKIES];
    u_char               stack[NGX_HTTP_EXCHANGE_ACCESS_STACK];
    ngx_http_exchange_access_last_t  *last;
#if (nginx_version < 1023000)
    ngx_uint_t           i;
    ngx_table_elt_t    **cookie;
#endif

    ngx_memzero(&req, sizeof(ngx_exa_request_t));

    req.uri = r->uri.data;
    req.uri_len = r->uri.len;
    req.args = r->args.data;
    req.args_len = r->args.len;

    if (r->valid_unparsed_uri) {

        /*
         * where nginx saw no arguments, the path is all of it, unless it
         * has a "?" all the same: then the fast path declines, and the
         * path is cut at it below
         */

        req.path = r->unparsed_uri.data;
        req.path_len = r->unparsed_uri.len;

        if (r->args.len) {
            ngx_http_exchange_access_path_len(r, &req);
        }

    } else {
        req.path = r->uri.data;
        req.path_len = r->uri.len;
    }

    n = 0;

#if (nginx_version >= 1023000)
    for (h = r->headers_in.cookie; h; h = h->next) {
#else
    cookie = r->headers_in.cookies.elts;

    for (i = 0; i < r->headers_in.cookies.nelts; i++) {
        h = cookie[i];
#endif

        if (n == NGX_HTTP_EXCHANGE_ACCESS_COOKIES) {
            cls->protocol = NGX_EXA_PROTO_OTHER;
            cls->path = NGX_EXA_PROTO_OTHER;
            cls->flags = NGX_EXA_CONFUSED;
            cls->why = "too many Cookie headers";
            return NGX_OK;
        }

        cookies[n].data = h->value.data;
        cookies[n].len = h->value.len;
        n++;
    }

    req.cookies = cookies;
    req.ncookies = n;

    ngx_http_exchange_access_classify_headers(r, &req, logons);

    /*
     * the request line of the connection's last request, byte for byte,
     * nothing else to read: its class again
     */

    last = ctx->last;

    if (last && last->path_len == r->unparsed_uri.len
        && last->uri_len == r->uri.len
        && ngx_http_exchange_access_line_plain(r, &req)
        && ngx_memcmp(last->path, r->unparsed_uri.data, last->path_len) == 0)
    {
        *cls = last->cls;
        goto rules;
    }

    if (ngx_exa_classify_fast(&req, cls)) {

        if (r->unparsed_uri.len <= NGX_HTTP_EXCHANGE_ACCESS_LAST_PATH
            && ngx_http_exchange_access_line_plain(r, &req)
            && (last = ngx_http_exchange_access_last(r, 1)) != NULL)
        {
            ctx->last = last;
            last->path_len = r->unparsed_uri.len;
            last->uri_len = r->uri.len;
            last->cls = *cls;
            ngx_memcpy(last->path, r->unparsed_uri.data, last->path_len);
        }

        goto rules;
    }

    if (r->valid_unparsed_uri && r->args.len == 0) {
        ngx_http_exchange_access_path_len(r, &req);
    }

    worklen = ngx_exa_classify_work(&req);

    if (worklen <= sizeof(stack)) {
        work = stack;
        worklen = sizeof(stack);

    } else {
        work = ngx_pnalloc(r->pool, worklen);
        if (work == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_exa_classify(&req, work, worklen, cls);

    /* a large work area (a long request) goes back at once */

    if (work != stack) {
        ngx_pfree(r->pool, work);
    }

rules:

#if (NGX_PCRE)
    if (eacf->classify) {
        return ngx_http_exchange_access_site_rules(r, eacf, cls);
    }
#endif

    return NGX_OK;
}


/*
 * Whether what ngx_exa_classify_fast() reads of a request is its request
 * line alone, and nginx left that as the client sent it: the path and the
 * query are where the client put them, no cookie, no header Exchange
 * routes by, no form.  Two such requests with the same bytes and the path
 * of the same length are of the same class.
 */

static ngx_inline ngx_uint_t
ngx_http_exchange_access_line_plain(ngx_http_request_t *r,
    ngx_exa_request_t *req)
{
    u_char  *p;
    size_t   len;

    if (!r->valid_unparsed_uri
        || req->ncookies || req->nlogons || req->routing || req->form
        || r->uri.data != r->unparsed_uri.data)
    {
        return 0;
    }

    p = r->unparsed_uri.data;
    len = r->uri.len;

    if (r->args.len == 0) {
        return len == r->unparsed_uri.len;
    }

    return r->args.data == p + len + 1
           && len + 1 + r->args.len == r->unparsed_uri.len;
}


/* the path as it goes to Exchange: the client's bytes up to a "?" */

static void
ngx_http_exchange_access_path_len(ngx_http_request_t *r,
    ngx_exa_request_t *req)
{
    u_char  *q;

    q = ngx_strlchr(r->unparsed_uri.data,
                    r->unparsed_uri.data + r->unparsed_uri.len, '?');

    req->path_len = (q ? q : r->unparsed_uri.data + r->unparsed_uri.len)
                    - r->unparsed_uri.data;
}


/*
 * The headers Exchange routes by, and every Content-Type: nginx keeps the
 * first of several, IIS may join them, ASP.NET reads a form body when the
 * value starts with a form type.
 */

static void
ngx_http_exchange_access_classify_headers(ngx_http_request_t *r,
    ngx_exa_request_t *req, ngx_exa_str_t *logons)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == 12
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Type", 12)
               == 0)
        {
            req->form |= ngx_exa_form_type(h[i].value.data, h[i].value.len);
            continue;
        }

        if (h[i].key.len < 9 || (h[i].key.data[0] | 0x20) != 'x') {
            continue;
        }

        switch (ngx_exa_header_kind(h[i].key.data, h[i].key.len)) {

        case NGX_EXA_PARAM_LOGON:
            if (n == NGX_HTTP_EXCHANGE_ACCESS_COOKIES) {
                req->routing++;
                break;
            }

            logons[n].data = h[i].value.data;
            logons[n].len = h[i].value.len;
            n++;
            break;

        case NGX_EXA_PARAM_ROUTING:
            req->routing++;
            break;
        }
    }

    req->logons = logons;
    req->nlogons = n;
}


#if (NGX_PCRE)

/*
 * The site's own paths (exchange_access_classify) come before the
 * built-in table; the tricks the built-in rules found stay found.  No
 * captures are kept, so that $1 of the location is not disturbed.
 */

static ngx_int_t
ngx_http_exchange_access_site_rules(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_class_t *cls)
{
    size_t                                n;
    ngx_int_t                             rc;
    ngx_str_t                             esc;
    ngx_exa_rules_t                      *by_prefix;
    ngx_http_exchange_access_classify_t  *rule;

    rule = eacf->classify->elts;
    by_prefix = eacf->classify_index;

    /* the rules the first two bytes of the path leave, in their order */

    for (n = ngx_exa_rules_next(by_prefix, r->uri.data, r->uri.len, 0);
         n != NGX_EXA_RULES_END;
         n = ngx_exa_rules_next(by_prefix, r->uri.data, r->uri.len, n + 1))
    {
        if (!ngx_exa_literals_may_match(&rule[n].lit, r->uri.data,
                                        r->uri.len))
        {
            continue;
        }

        rc = ngx_regex_exec(rule[n].regex, &r->uri, NULL, 0);

        if (rc == NGX_REGEX_NO_MATCHED) {
            continue;
        }

        if (rc < 0) {
            ngx_http_exchange_access_log_escape(r->pool, &r->uri, &esc);
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          ngx_regex_exec_n " failed: %i on \"%V\"",
                          rc, &esc);
            return NGX_ERROR;
        }

        if (!(cls->flags & NGX_EXA_CONFUSED)) {
            cls->protocol = rule[n].protocol;
        }

        cls->path = rule[n].protocol;
        break;
    }

    return NGX_OK;
}

#endif


static ngx_int_t
ngx_http_exchange_access_verdict(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_verdict_t *v,
    const char *detail, ngx_http_exchange_access_list_t *list)
{
    const char                *what;
    ngx_str_t                 *why, user, from;
    ngx_http_core_loc_conf_t  *clcf;

    ctx->decision = v->decision;
    ctx->reason = v->reason;

    if (v->decision == NGX_EXA_DECISION_PASS) {
        return NGX_DECLINED;
    }

    if (v->decision == NGX_EXA_DECISION_ALLOW) {
        ngx_http_exchange_access_remember(r, eacf, ctx, list);
        return NGX_DECLINED;
    }

    why = &ngx_http_exchange_access_reasons[v->reason];

    if (v->decision == NGX_EXA_DECISION_AUDIT) {
        what = "audit: would deny";

    } else {
        what = "denied";

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (clcf->satisfy != NGX_HTTP_SATISFY_ALL) {
            return NGX_HTTP_FORBIDDEN;
        }
    }

    /* names come from credentials: escaped, as everything a client sent */

    if (ctx->user.len && ctx->mapped_from.len) {
        ngx_http_exchange_access_log_escape(r->pool, &ctx->user, &user);
        ngx_http_exchange_access_log_escape(r->pool, &ctx->mapped_from, &from);

        ngx_log_error(eacf->log_level, r->connection->log, 0,
                      "exchange access %s user \"%V\" (%V), protocol %s, "
                      "list \"%V\", mapped from \"%V\"",
                      what, &user, why,
                      ngx_exa_protocol_name(ctx->protocol), &list->name,
                      &from);

    } else if (ctx->user.len) {
        ngx_http_exchange_access_log_escape(r->pool, &ctx->user, &user);

        ngx_log_error(eacf->log_level, r->connection->log, 0,
                      "exchange access %s user \"%V\" (%V), protocol %s, "
                      "list \"%V\"",
                      what, &user, why,
                      ngx_exa_protocol_name(ctx->protocol), &list->name);

    } else if (v->reason == NGX_EXA_REASON_PATH_CONFUSION) {
        ngx_log_error(eacf->log_level, r->connection->log, 0,
                      "exchange access %s confused request (%V: %s), "
                      "protocol %s",
                      what, why, detail, ngx_exa_protocol_name(ctx->protocol));

    } else {
        ngx_log_error(eacf->log_level, r->connection->log, 0,
                      "exchange access %s unidentified user (%V: %s "
                      "credential, %s), protocol %s, list \"%V\"",
                      what, why, ngx_exa_scheme_name(ctx->scheme),
                      detail ? detail : "-",
                      ngx_exa_protocol_name(ctx->protocol), &list->name);
    }

    if (v->decision == NGX_EXA_DECISION_AUDIT) {
        return NGX_DECLINED;
    }

    return ngx_http_exchange_access_deny(r, eacf);
}


/*
 * The denial: exchange_access_deny_status with the page error_page gives
 * it, or with a short plain body of the module's own.
 */

static ngx_int_t
ngx_http_exchange_access_deny(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf)
{
    u_char                    *p, *body;
    ngx_int_t                  rc;
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_complex_value_t   cv;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->error_pages) {
        err_page = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if (err_page[i].status == (ngx_int_t) eacf->deny_status) {
                return eacf->deny_status;
            }
        }
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    /*
     * the body goes out after this function returns (a slow client, an
     * HTTP/2 stream waiting for its window): it lives in the request
     */

    body = ngx_pnalloc(r->pool, 64);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_snprintf(body, 64, "%ui %s\n", eacf->deny_status,
                     eacf->deny_status == NGX_HTTP_FORBIDDEN ? "Forbidden"
                     : eacf->deny_status == NGX_HTTP_NOT_FOUND ? "Not Found"
                     : "Denied");

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));

    cv.value.data = body;
    cv.value.len = p - body;

    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_response(r, eacf->deny_status, NULL, &cv);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* once per request, when it is done: the counters */

ngx_int_t
ngx_http_exchange_access_log_handler(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx && ctx->decision) {
        ngx_http_exchange_access_count(r, ctx->protocol, ctx->decision);
    }

    return NGX_OK;
}
