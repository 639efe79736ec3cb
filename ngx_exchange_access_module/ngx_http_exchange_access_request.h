
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_HTTP_EXCHANGE_ACCESS_REQUEST_H_INCLUDED_
#define _NGX_HTTP_EXCHANGE_ACCESS_REQUEST_H_INCLUDED_


/*
 * The request path, in four files: the directives of a location and
 * their merging (ngx_http_exchange_access_module.c), the access-phase
 * handler that classifies, looks up and decides
 * (ngx_http_exchange_access_handler.c), the credential and the identity
 * of a connection (ngx_http_exchange_access_identity.c), and the
 * variables (ngx_http_exchange_access_variables.c).  What they share:
 * the location's configuration, a request's context, a connection's
 * identity.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"
#include "ngx_exa_hidden.h"


NGX_EXA_HIDDEN_BEGIN


#define NGX_HTTP_EXCHANGE_ACCESS_OFF        0
#define NGX_HTTP_EXCHANGE_ACCESS_ON         1
#define NGX_HTTP_EXCHANGE_ACCESS_AUDIT      2

#define NGX_HTTP_EXCHANGE_ACCESS_STACK      4096
#define NGX_HTTP_EXCHANGE_ACCESS_COOKIES    8

/* what the backend made of the handshakes on a client connection */
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_NONE      0
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_ACCEPTED  1
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_CLEARED   2




typedef struct {
    ngx_uint_t                        mode;
    ngx_uint_t                        unidentified;
    ngx_uint_t                        confusion;
    ngx_uint_t                        log_level;
    ngx_uint_t                        deny_status;

    /* the list each protocol is restricted to, NULL if unrestricted */
    ngx_http_exchange_access_list_t  *lists[NGX_EXA_PROTO_N];
    ngx_uint_t                        restricted;

    ngx_array_t                      *internal;    /* of ngx_cidr_t */
    ngx_array_t                      *domains;     /* of ngx_exa_str_t */
    ngx_array_t                      *groups;      /* of size_t */
    ngx_exa_name_conf_t               names;
    ngx_array_t                      *claims;      /* of ngx_exa_str_t */
    ngx_exa_cred_conf_t               cred;
    ngx_array_t                      *classify;    /* of classify_t */
    ngx_array_t                      *user_maps;   /* of user_map_t */
    ngx_exa_rules_t                  *classify_index;
    ngx_exa_rules_t                  *user_map_index;
} ngx_http_exchange_access_loc_conf_t;


#if (NGX_PCRE)

typedef struct {
    ngx_regex_t                      *regex;
    ngx_uint_t                        protocol;
    ngx_exa_literals_t                lit;
} ngx_http_exchange_access_classify_t;


typedef struct {
    ngx_http_regex_t                 *regex;
    ngx_http_complex_value_t          value;
    ngx_exa_literals_t                lit;
} ngx_http_exchange_access_user_map_t;

#endif


/*
 * What a list answered for a key a connection keeps: "member", while the
 * zone of the list "list" (NULL: nothing kept) still has the table
 * "table" of generation "generation" (ngx_http_exchange_access_lookup()).
 */

typedef struct {
    void                             *list;
    void                             *table;
    ngx_uint_t                        generation;
    ngx_uint_t                        member;
} ngx_http_exchange_access_answer_t;


/*
 * Who a client connection is, for the backend: the credential of the
 * last NTLM or Negotiate handshake the backend accepted (a final answer
 * other than 401) on the upstream connection "serial" that
 * exchange_access_ntlm keeps for this client connection.  Once the
 * backend refused a new handshake there, the state is "cleared".
 */

typedef struct {
    ngx_exa_cred_t                    cred;
    ngx_uint_t                        serial;
    ngx_uint_t                        state;
    ngx_http_exchange_access_session_t  session;
    u_char                            key[NGX_EXA_KEY_MAX];

    /*
     * the lookup key cred resolved to in the location "resolved" (NULL:
     * none yet) without exchange_access_user_map, and its domain, and
     * what a list answered for it; gone when cred changes
     */
    void                             *resolved;
    size_t                            resolved_len;
    size_t                            resolved_domain;
    ngx_http_exchange_access_answer_t  answer;
    u_char                            resolved_key[NGX_EXA_KEY_MAX];
} ngx_http_exchange_access_conn_t;


/*
 * What a keep-alive client connection's last requests left for the next
 * ones, from its second request on (a connection of one request never
 * reads it back), in HTTP/1.x only.
 *
 * The last Basic header, and the key it resolved to in the location "loc"
 * (NULL: none), where no exchange_access_user_map rule rewrote its name: a
 * later request with the very same bytes is the same user, without
 * decoding them again.  The
 * bytes hold the password: they are wiped when another header takes their
 * place and when the connection closes.  "answer" is what a list
 * answered for the key.
 *
 * The last request line's path and query that nginx left as the client
 * sent them and that ngx_exa_classify_fast() classified (path_len 0:
 * none), with uri_len the length of the path in it, and the class.
 */

#define NGX_HTTP_EXCHANGE_ACCESS_BASIC_VALUE  160
#define NGX_HTTP_EXCHANGE_ACCESS_KEY          64
#define NGX_HTTP_EXCHANGE_ACCESS_LAST_PATH    128

typedef struct {
    void                    *loc;
    size_t                   len;
    size_t                   klen;
    size_t                   domain;
    ngx_http_exchange_access_answer_t  answer;
    u_char                   value[NGX_HTTP_EXCHANGE_ACCESS_BASIC_VALUE];
    u_char                   key[NGX_HTTP_EXCHANGE_ACCESS_KEY];

    size_t                   path_len;
    size_t                   uri_len;
    ngx_exa_class_t          cls;
    u_char                   path[NGX_HTTP_EXCHANGE_ACCESS_LAST_PATH];
} ngx_http_exchange_access_last_t;


typedef struct {
    ngx_uint_t                        protocol;
    ngx_uint_t                        decision;    /* ngx_exa_decision_e */
    ngx_uint_t                        reason;      /* ngx_exa_reason_e */
    ngx_uint_t                        connection;  /* unsigned:1 */
    ngx_uint_t                        scheme;
    ngx_uint_t                        header_scheme;  /* of this handler */
    ngx_str_t                         user;
    ngx_str_t                         mapped_from;
    size_t                            domain;      /* in names.domains */
    ngx_exa_cred_t                   *pending;     /* NTLM, Negotiate */
    ngx_http_exchange_access_conn_t  *conn;        /* of the last decision */
    ngx_http_exchange_access_last_t  *last;        /* of the connection */
    ngx_http_exchange_access_last_t  *basic;       /* its header, the same */
    ngx_http_exchange_access_answer_t  *answer;    /* kept for the key */
    ngx_http_exchange_access_session_t  session;

    /* ctx->user when it fits, as nearly every key does */
    u_char                            key[NGX_HTTP_EXCHANGE_ACCESS_KEY];
} ngx_http_exchange_access_ctx_t;


/*
 * The connection's identity decides (ctx->connection), and its key
 * resolved in this location before, without exchange_access_user_map:
 * ctx->user is that key, read where the connection keeps it, which only
 * a later request changes.  What ngx_http_exchange_access_user() gives
 * then, without a call.
 */

static ngx_inline ngx_uint_t
ngx_http_exchange_access_conn_key(ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_http_exchange_access_conn_t  *conn;

    conn = ctx->connection ? ctx->conn : NULL;

    if (conn == NULL || conn->resolved != eacf || eacf->user_maps != NULL) {
        return 0;
    }

    ctx->mapped_from.len = 0;
    ctx->domain = conn->resolved_domain;
    ctx->answer = &conn->answer;
    ctx->user.data = conn->resolved_key;
    ctx->user.len = conn->resolved_len;

    return 1;
}


/*
 * The identity the backend accepted on the client connection, as
 * ngx_exa_decide() counts it: none while the upstream connection it was
 * accepted on is not the one kept for the client connection.  Inline:
 * every decision asks.
 */

static ngx_inline ngx_uint_t
ngx_http_exchange_access_identity(ngx_http_request_t *r,
    ngx_http_exchange_access_conn_t *conn)
{
    if (conn == NULL) {
        return NGX_EXA_IDENTITY_NONE;
    }

    if (conn->session.revoked) {
        return NGX_EXA_IDENTITY_REVOKED;
    }

    if (conn->state == NGX_HTTP_EXCHANGE_ACCESS_CONN_NONE
        || conn->serial != ngx_http_exchange_access_ntlm_kept(r->connection))
    {
        return NGX_EXA_IDENTITY_NONE;
    }

    if (conn->state == NGX_HTTP_EXCHANGE_ACCESS_CONN_CLEARED) {
        return NGX_EXA_IDENTITY_CLEARED;
    }

    return (conn->cred.status == NGX_EXA_CRED_USER)
           ? NGX_EXA_IDENTITY_USER : NGX_EXA_IDENTITY_UNREADABLE;
}


/* ngx_http_exchange_access_handler.c: the access and log phases */

ngx_int_t ngx_http_exchange_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_exchange_access_log_handler(ngx_http_request_t *r);

/* ngx_http_exchange_access_identity.c: who the request is */

ngx_int_t ngx_http_exchange_access_header_credential(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred, int *header);
ngx_int_t ngx_http_exchange_access_user(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred);
ngx_int_t ngx_http_exchange_access_handshake(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx);
void ngx_http_exchange_access_upstream_answered(ngx_http_request_t *r,
    ngx_uint_t serial, ngx_uint_t status);
void ngx_http_exchange_access_remember(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_list_t *list);
ngx_http_exchange_access_conn_t *ngx_http_exchange_access_connection(
    ngx_http_request_t *r, ngx_uint_t create);
ngx_http_exchange_access_last_t *ngx_http_exchange_access_last(
    ngx_http_request_t *r, ngx_uint_t create);
void ngx_http_exchange_access_conn_data(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx);
ngx_http_exchange_access_ctx_t *ngx_http_exchange_access_get_ctx(
    ngx_http_request_t *r);
ngx_http_exchange_access_ctx_t *ngx_http_exchange_access_var_ctx(
    ngx_http_request_t *r);
void ngx_http_exchange_access_log_escape(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst);

/* ngx_http_exchange_access_variables.c: $exchange_* */

ngx_int_t ngx_http_exchange_access_add_variables(ngx_conf_t *cf);
extern ngx_str_t  ngx_http_exchange_access_reasons[];


/*
 * A credential's fields, and, with names set, of its names the bytes they
 * hold; without, the names are empty.
 */

static ngx_inline void
ngx_http_exchange_access_cred_copy(ngx_exa_cred_t *dst,
    const ngx_exa_cred_t *src, ngx_uint_t names)
{
    ngx_memcpy(dst, src, offsetof(ngx_exa_cred_t, domain));

    if (names) {
        ngx_memcpy(dst->domain, src->domain, src->domain_len);
        ngx_memcpy(dst->user, src->user, src->user_len);

    } else {
        dst->domain_len = 0;
        dst->user_len = 0;
    }
}


/*
 * The credential a request is decided on: its Authorization header, or,
 * without one, the credential of the handshake the backend accepted on
 * the upstream connection that exchange_access_ntlm keeps for this client
 * connection (NTLM and Negotiate authenticate the connection, and later
 * requests on it carry no header).  After the backend refused a new
 * handshake there, the connection is unidentified.  *header is what
 * ngx_exa_decide() is told of the Authorization header.  Inline, the
 * header read apart: most requests of an identified connection have none.
 */

static ngx_inline ngx_int_t
ngx_http_exchange_access_credential(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_conn_t *conn, ngx_uint_t identity,
    ngx_exa_cred_t *cred, int *header)
{
    ctx->connection = 0;

    if (r->headers_in.authorization) {
        return ngx_http_exchange_access_header_credential(r, eacf, ctx, cred,
                                                          header);
    }

    ctx->basic = NULL;
    ctx->answer = NULL;

    *header = NGX_EXA_HEADER_NONE;

    if (identity == NGX_EXA_IDENTITY_NONE
        || identity == NGX_EXA_IDENTITY_REVOKED)
    {
        ngx_memzero(cred, offsetof(ngx_exa_cred_t, domain));
        cred->scheme = NGX_EXA_AUTH_NONE;
        cred->detail = "none";
        ctx->scheme = cred->scheme;
        return NGX_OK;
    }

    /*
     * the names are not read where the key they resolved to is kept
     * (ngx_http_exchange_access_user())
     */

    ngx_http_exchange_access_cred_copy(cred, &conn->cred,
                                       conn->resolved != eacf
                                       || eacf->user_maps != NULL);

    ctx->connection = 1;
    ctx->scheme = cred->scheme;

    if (identity == NGX_EXA_IDENTITY_CLEARED) {
        cred->status = NGX_EXA_CRED_UNIDENTIFIED;
        cred->detail = "the backend refused a new handshake";
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "exchange access: decided on the %s identity "
                   "of the connection",
                   ngx_exa_scheme_name(cred->scheme));

    return NGX_OK;
}


NGX_EXA_HIDDEN_END


#endif /* _NGX_HTTP_EXCHANGE_ACCESS_REQUEST_H_INCLUDED_ */
