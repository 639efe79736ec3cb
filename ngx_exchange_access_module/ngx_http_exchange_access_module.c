
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_module.h"


#define NGX_HTTP_EXCHANGE_ACCESS_OFF        0
#define NGX_HTTP_EXCHANGE_ACCESS_ON         1
#define NGX_HTTP_EXCHANGE_ACCESS_AUDIT      2

#define NGX_HTTP_EXCHANGE_ACCESS_STACK      4096
#define NGX_HTTP_EXCHANGE_ACCESS_COOKIES    8

/* what the backend made of the handshakes on a client connection */
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_NONE      0
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_ACCEPTED  1
#define NGX_HTTP_EXCHANGE_ACCESS_CONN_CLEARED   2


typedef enum {
    ngx_http_exchange_access_reason_none = 0,
    ngx_http_exchange_access_reason_member,
    ngx_http_exchange_access_reason_not_member,
    ngx_http_exchange_access_reason_internal,
    ngx_http_exchange_access_reason_unrestricted,
    ngx_http_exchange_access_reason_no_credential,
    ngx_http_exchange_access_reason_handshake,
    ngx_http_exchange_access_reason_unidentified,
    ngx_http_exchange_access_reason_foreign_domain,
    ngx_http_exchange_access_reason_list_unavailable,
    ngx_http_exchange_access_reason_path_confusion,
    ngx_http_exchange_access_reason_revoked,
    ngx_http_exchange_access_reason_n
} ngx_http_exchange_access_reason_e;


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
} ngx_http_exchange_access_conn_t;


typedef struct {
    ngx_uint_t                        protocol;
    ngx_uint_t                        decision;
    ngx_uint_t                        reason;
    ngx_uint_t                        connection;  /* unsigned:1 */
    ngx_uint_t                        scheme;
    ngx_str_t                         user;
    ngx_str_t                         mapped_from;
    size_t                            domain;      /* in names.domains */
    ngx_exa_cred_t                   *pending;     /* NTLM, Negotiate */
    ngx_http_exchange_access_session_t  session;
    u_char                            key[NGX_EXA_KEY_MAX];
} ngx_http_exchange_access_ctx_t;


static ngx_int_t ngx_http_exchange_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_exchange_access_decide(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_classify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_class_t *cls);
static ngx_int_t ngx_http_exchange_access_map_user(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred,
    ngx_str_t *name);
static ngx_int_t ngx_http_exchange_access_full_name(ngx_http_request_t *r,
    ngx_exa_cred_t *cred, ngx_str_t *name);
static ngx_int_t ngx_http_exchange_access_identify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred);
static ngx_int_t ngx_http_exchange_access_credential(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred,
    ngx_uint_t *from_connection);
static ngx_int_t ngx_http_exchange_access_parse(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_cred_t *cred);
static ngx_int_t ngx_http_exchange_access_handshake(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx);
static void ngx_http_exchange_access_upstream_answered(ngx_http_request_t *r,
    ngx_uint_t serial, ngx_uint_t status);
static void ngx_http_exchange_access_answered(ngx_http_request_t *r,
    ngx_http_exchange_access_ctx_t *ctx, ngx_uint_t serial,
    ngx_uint_t status);
static void ngx_http_exchange_access_remember(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx,
    ngx_http_exchange_access_list_t *list);
static void ngx_http_exchange_access_conn_session(ngx_http_request_t *r,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_ctx_t *ctx);
static ngx_uint_t ngx_http_exchange_access_conn_bound(ngx_http_request_t *r);
static ngx_http_exchange_access_conn_t *ngx_http_exchange_access_connection(
    ngx_http_request_t *r, ngx_uint_t create);
static void ngx_http_exchange_access_conn_cleanup(void *data);
static ngx_int_t ngx_http_exchange_access_verdict(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_uint_t deny, ngx_uint_t reason,
    const char *detail, ngx_http_exchange_access_list_t *list);
static ngx_http_exchange_access_ctx_t *ngx_http_exchange_access_get_ctx(
    ngx_http_request_t *r);
static void ngx_http_exchange_access_cleanup(void *data);
static void *ngx_http_exchange_access_pool_data(ngx_pool_t *pool,
    ngx_pool_cleanup_pt handler, size_t size, ngx_uint_t create);
static ngx_http_exchange_access_ctx_t *ngx_http_exchange_access_var_ctx(
    ngx_http_request_t *r);

static ngx_int_t ngx_http_exchange_access_protocol_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_user_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_decision_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_reason_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);

static void *ngx_http_exchange_access_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_exchange_access_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_exchange_access_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_exchange_access_require(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_unknown_protocol(ngx_conf_t *cf,
    ngx_str_t *value);
static char *ngx_http_exchange_access_internal(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_domain(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_claims(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
#if (NGX_PCRE)
static ngx_int_t ngx_http_exchange_access_regex(ngx_conf_t *cf,
    ngx_str_t *value, ngx_regex_compile_t *rc, u_char *errstr);
#endif
static char *ngx_http_exchange_access_classify_rule(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_user_map(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_exchange_access_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_exchange_access_deny(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf);
static ngx_int_t ngx_http_exchange_access_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_exchange_access_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_exchange_access_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_exchange_access_init_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_exchange_access_deny_bounds = {
    ngx_conf_check_num_bounds, 400, 599
};


static ngx_conf_enum_t  ngx_http_exchange_access_modes[] = {
    { ngx_string("off"), NGX_HTTP_EXCHANGE_ACCESS_OFF },
    { ngx_string("on"), NGX_HTTP_EXCHANGE_ACCESS_ON },
    { ngx_string("audit"), NGX_HTTP_EXCHANGE_ACCESS_AUDIT },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_exchange_access_unidentified_policy[] = {
    { ngx_string("deny"), 1 },
    { ngx_string("pass"), 0 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_exchange_access_confusion_policy[] = {
    { ngx_string("deny"), 1 },
    { ngx_string("classify"), 0 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_exchange_access_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


ngx_str_t  ngx_http_exchange_access_decision_names[] = {
    ngx_null_string,
    ngx_string("pass"),
    ngx_string("allow"),
    ngx_string("deny"),
    ngx_string("audit")
};

NGX_EXA_ASSERT(decisions,
               NGX_EXA_NELTS(ngx_http_exchange_access_decision_names)
               == NGX_HTTP_EXCHANGE_ACCESS_DECISIONS);


static ngx_str_t  ngx_http_exchange_access_reasons[] = {
    ngx_null_string,
    ngx_string("member"),
    ngx_string("not_member"),
    ngx_string("internal"),
    ngx_string("unrestricted"),
    ngx_string("no_credential"),
    ngx_string("handshake"),
    ngx_string("unidentified"),
    ngx_string("foreign_domain"),
    ngx_string("list_unavailable"),
    ngx_string("path_confusion"),
    ngx_string("revoked")
};

NGX_EXA_ASSERT(reasons, NGX_EXA_NELTS(ngx_http_exchange_access_reasons)
                        == ngx_http_exchange_access_reason_n);


static ngx_command_t  ngx_http_exchange_access_commands[] = {

    { ngx_string("exchange_access"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_exchange_access_loc_conf_t, mode),
      &ngx_http_exchange_access_modes },

    { ngx_string("exchange_access_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_exchange_access_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_internal"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_exchange_access_internal,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_domain"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_exchange_access_domain,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_bearer_claims"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_exchange_access_claims,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_unidentified"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_exchange_access_loc_conf_t, unidentified),
      &ngx_http_exchange_access_unidentified_policy },

    { ngx_string("exchange_access_path_confusion"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_exchange_access_loc_conf_t, confusion),
      &ngx_http_exchange_access_confusion_policy },

    { ngx_string("exchange_access_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_exchange_access_loc_conf_t, log_level),
      &ngx_http_exchange_access_log_levels },

    { ngx_string("exchange_access_classify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_exchange_access_classify_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_user_map"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_exchange_access_user_map,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_deny_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_exchange_access_loc_conf_t, deny_status),
      &ngx_http_exchange_access_deny_bounds },

    { ngx_string("exchange_access_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_exchange_access_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("exchange_access_list"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_exchange_access_list_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_exchange_access_module_ctx = {
    ngx_http_exchange_access_add_variables,    /* preconfiguration */
    ngx_http_exchange_access_init,             /* postconfiguration */

    ngx_http_exchange_access_create_main_conf, /* create main configuration */
    NULL,                                      /* init main configuration */

    NULL,                                      /* create server conf */
    NULL,                                      /* merge server conf */

    ngx_http_exchange_access_create_loc_conf,  /* create location conf */
    ngx_http_exchange_access_merge_loc_conf    /* merge location conf */
};


ngx_module_t  ngx_http_exchange_access_module = {
    NGX_MODULE_V1,
    &ngx_http_exchange_access_module_ctx,      /* module context */
    ngx_http_exchange_access_commands,         /* module directives */
    NGX_HTTP_MODULE,                           /* module type */
    NULL,                                      /* init master */
    ngx_http_exchange_access_init_module,      /* init module */
    ngx_http_exchange_access_init_process,     /* init process */
    NULL,                                      /* init thread */
    NULL,                                      /* exit thread */
    NULL,                                      /* exit process */
    NULL,                                      /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_exchange_access_vars[] = {

    { ngx_string("exchange_protocol"), NULL,
      ngx_http_exchange_access_protocol_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("exchange_user"), NULL,
      ngx_http_exchange_access_user_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("exchange_access"), NULL,
      ngx_http_exchange_access_decision_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("exchange_access_reason"), NULL,
      ngx_http_exchange_access_reason_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
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

    if (ctx->decision == NGX_HTTP_EXCHANGE_ACCESS_DENY) {

        /* an internal redirect to the error page of our own denial */

        return NGX_DECLINED;
    }

    if (ngx_http_exchange_access_handshake(r, eacf, ctx) != NGX_DECLINED) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_exchange_access_decide(r, eacf, ctx);
}


static ngx_int_t
ngx_http_exchange_access_decide(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_int_t                         rc;
    ngx_exa_cred_t                    cred;
    ngx_exa_class_t                   cls;
    const ngx_exa_str_t              *netbios;
    ngx_http_exchange_access_conn_t  *conn;
    ngx_http_exchange_access_list_t  *list;

    /* what an earlier location of this request allowed is decided again */

    ngx_http_exchange_access_session_stop(&ctx->session);
    ctx->session.list = NULL;

    if (ngx_http_exchange_access_classify(r, eacf, &cls) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    list = eacf->lists[cls.protocol];

    /* a connection whose user left a list: refused, and closed */

    conn = ngx_http_exchange_access_connection(r, 0);

    if (conn && conn->session.revoked) {
        ctx->protocol = cls.protocol;
        ctx->user.data = conn->key;
        ctx->user.len = conn->session.len;
        ctx->scheme = conn->cred.scheme;
        ctx->connection = 1;
        r->keepalive = 0;

        return ngx_http_exchange_access_verdict(r, eacf, ctx, 1,
                                     ngx_http_exchange_access_reason_revoked,
                                     NULL, conn->session.list);
    }

    if (cls.flags & NGX_EXA_CONFUSED) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "exchange access: path %s reaches %s: %s",
                       ngx_exa_protocol_name(cls.path),
                       ngx_exa_protocol_name(cls.protocol), cls.why);

        if (eacf->confusion) {
            ctx->protocol = cls.protocol;
            ctx->user.len = 0;

            if (eacf->internal
                && ngx_cidr_match(r->connection->sockaddr, eacf->internal)
                   == NGX_OK)
            {
                ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_PASS;
                ctx->reason = ngx_http_exchange_access_reason_internal;
                return NGX_DECLINED;
            }

            return ngx_http_exchange_access_verdict(r, eacf, ctx, 1,
                               ngx_http_exchange_access_reason_path_confusion,
                               cls.why, list);
        }
    }

    if (list == NULL) {

        /* keep what an earlier location decided about this request */

        if (ctx->decision == 0
            || ctx->decision == NGX_HTTP_EXCHANGE_ACCESS_PASS)
        {
            ctx->protocol = cls.protocol;
            ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_PASS;
            ctx->reason = ngx_http_exchange_access_reason_unrestricted;
        }

        return NGX_DECLINED;
    }

    ctx->protocol = cls.protocol;
    ctx->user.len = 0;

    if (eacf->internal
        && ngx_cidr_match(r->connection->sockaddr, eacf->internal) == NGX_OK)
    {
        ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_PASS;
        ctx->reason = ngx_http_exchange_access_reason_internal;
        return NGX_DECLINED;
    }

    rc = ngx_http_exchange_access_identify(r, eacf, ctx, &cred);

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        /* nothing to decide on yet: the backend challenges */
        ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_PASS;
        return NGX_DECLINED;

    case NGX_HTTP_FORBIDDEN:
        return ngx_http_exchange_access_verdict(r, eacf, ctx, 1, ctx->reason,
                                                cred.detail, list);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * a sAMAccountName matches the entries of its own domain only (bare
     * entries are the first domain's); a UPN, or any name without
     * exchange_access_domain, matches whatever domain it was listed for
     */

    if (ctx->domain == NGX_EXA_NAME_ANY_DOMAIN) {
        rc = ngx_http_exchange_access_list_lookup(list, ctx->key,
                                                  ctx->user.len, NULL, 0, 0);

    } else {
        netbios = &eacf->names.domains[ctx->domain];

        rc = ngx_http_exchange_access_list_lookup(list, ctx->key,
                                                  ctx->user.len,
                                                  netbios->data, netbios->len,
                                                  ctx->domain == 0);
    }

    if (rc == NGX_OK) {
        return ngx_http_exchange_access_verdict(r, eacf, ctx, 0,
                                       ngx_http_exchange_access_reason_member,
                                       NULL, list);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_exchange_access_verdict(r, eacf, ctx, 1,
                                   ngx_http_exchange_access_reason_not_member,
                                   NULL, list);
    }

    return ngx_http_exchange_access_verdict(r, eacf, ctx, 1,
                             ngx_http_exchange_access_reason_list_unavailable,
                             NULL, list);
}


/*
 * Classifies by what Exchange will serve: nginx's normalised path, the
 * path as it goes upstream (the client's bytes unless nginx rewrote the
 * request), the query string and the cookies.
 */

static ngx_int_t
ngx_http_exchange_access_classify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_class_t *cls)
{
    u_char                               *work, *q;
    size_t                                worklen;
    ngx_int_t                             rc;
    ngx_uint_t                            i, n;
    ngx_list_part_t                      *part;
    ngx_table_elt_t                      *h;
    ngx_exa_request_t                     req;
#if (NGX_PCRE)
    ngx_str_t                             esc;
    ngx_http_exchange_access_classify_t  *rule;
#endif
    ngx_exa_str_t        cookies[NGX_HTTP_EXCHANGE_ACCESS_COOKIES];
    ngx_exa_str_t        logons[NGX_HTTP_EXCHANGE_ACCESS_COOKIES];
    u_char               stack[NGX_HTTP_EXCHANGE_ACCESS_STACK];
#if (nginx_version < 1023000)
    ngx_table_elt_t   **cookie;
#endif

    ngx_memzero(&req, sizeof(ngx_exa_request_t));

    req.uri = r->uri.data;
    req.uri_len = r->uri.len;
    req.args = r->args.data;
    req.args_len = r->args.len;

    if (r->valid_unparsed_uri) {
        req.path = r->unparsed_uri.data;
        q = ngx_strlchr(r->unparsed_uri.data,
                        r->unparsed_uri.data + r->unparsed_uri.len, '?');
        req.path_len = (q ? q : r->unparsed_uri.data + r->unparsed_uri.len)
                       - r->unparsed_uri.data;

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

    /*
     * The headers Exchange routes by, and every Content-Type: nginx keeps
     * the first of several, IIS may join them, ASP.NET reads a form body
     * when the value starts with a form type.
     */

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
            req.form |= ngx_exa_form_type(h[i].value.data, h[i].value.len);
            continue;
        }

        if (h[i].key.len < 9 || (h[i].key.data[0] | 0x20) != 'x') {
            continue;
        }

        switch (ngx_exa_header_kind(h[i].key.data, h[i].key.len)) {

        case NGX_EXA_PARAM_LOGON:
            if (n == NGX_HTTP_EXCHANGE_ACCESS_COOKIES) {
                req.routing++;
                break;
            }

            logons[n].data = h[i].value.data;
            logons[n].len = h[i].value.len;
            n++;
            break;

        case NGX_EXA_PARAM_ROUTING:
            req.routing++;
            break;
        }
    }

    req.logons = logons;
    req.nlogons = n;

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

#if (NGX_PCRE)

    /*
     * the site's own paths come before the built-in table; the tricks the
     * built-in rules found stay found.  No captures are kept, so that $1 of
     * the location is not disturbed.
     */

    if (eacf->classify) {
        rule = eacf->classify->elts;

        for (n = 0; n < eacf->classify->nelts; n++) {

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
    }

#else
    (void) rc;
#endif

    return NGX_OK;
}


/*
 * Returns NGX_OK with ctx->user set to the lookup key, NGX_DECLINED when
 * there is nobody to decide on yet, NGX_HTTP_FORBIDDEN with ctx->reason
 * when the policy denies, or NGX_ERROR.
 */

static ngx_int_t
ngx_http_exchange_access_identify(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred)
{
    int         rc;
    size_t      klen;
    ngx_uint_t  from_connection;

    if (ngx_http_exchange_access_credential(r, eacf, ctx, cred,
                                            &from_connection)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->connection = from_connection;
    ctx->scheme = cred->scheme;

    if (cred->scheme == NGX_EXA_AUTH_NONE) {
        ctx->reason = ngx_http_exchange_access_reason_no_credential;
        return NGX_DECLINED;
    }

    switch (cred->status) {

    case NGX_EXA_CRED_USER:
        break;

    case NGX_EXA_CRED_HANDSHAKE:
        ctx->reason = ngx_http_exchange_access_reason_handshake;
        return NGX_DECLINED;

    default:
        ctx->reason = ngx_http_exchange_access_reason_unidentified;

        if (eacf->unidentified) {
            return NGX_HTTP_FORBIDDEN;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "exchange access: unidentified %s credential passed",
                       ngx_exa_scheme_name(cred->scheme));
        return NGX_DECLINED;
    }

    ctx->mapped_from.len = 0;

    if (eacf->user_maps) {
        ngx_str_t  name;

        if (ngx_http_exchange_access_map_user(r, eacf, ctx, cred, &name)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ctx->mapped_from.len) {
            rc = ngx_exa_name_resolve(&eacf->names, NULL, 0, name.data,
                                      name.len, ctx->key, &klen,
                                      &ctx->domain);
            goto mapped;
        }
    }

    rc = ngx_exa_name_resolve(&eacf->names, cred->domain, cred->domain_len,
                              cred->user, cred->user_len, ctx->key, &klen,
                              &ctx->domain);

mapped:

    ctx->user.data = ctx->key;
    ctx->user.len = klen;

    switch (rc) {

    case NGX_EXA_NAME_OK:
        return NGX_OK;

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

        ctx->reason = ngx_http_exchange_access_reason_foreign_domain;
        return NGX_HTTP_FORBIDDEN;

    default:
        cred->detail = ngx_exa_name_strerror(rc);
        ctx->reason = ngx_http_exchange_access_reason_unidentified;

        if (eacf->unidentified) {
            return NGX_HTTP_FORBIDDEN;
        }

        return NGX_DECLINED;
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
    ngx_int_t                             rc;
    ngx_str_t                             orig;
    ngx_uint_t                            i, ncaptures;
    ngx_http_exchange_access_user_map_t  *map;

    if (ngx_http_exchange_access_full_name(r, cred, &orig) != NGX_OK) {
        return NGX_ERROR;
    }

    captures = r->captures;
    ncaptures = r->ncaptures;
    captures_data = r->captures_data;

    r->captures = NULL;

    map = eacf->user_maps->elts;
    rc = NGX_DECLINED;

    for (i = 0; i < eacf->user_maps->nelts; i++) {

        if (!ngx_exa_literals_may_match(&map[i].lit, orig.data, orig.len)) {
            rc = NGX_DECLINED;
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
 * The credential a request is decided on: its Authorization header, or,
 * without one, the credential of the handshake the backend accepted on
 * the upstream connection that exchange_access_ntlm keeps for this client
 * connection (NTLM and Negotiate authenticate the connection, and later
 * requests on it carry no header).  With no such connection kept, the
 * backend will challenge: nothing to decide on.  After the backend
 * refused a new handshake there, the connection is unidentified.
 */

static ngx_int_t
ngx_http_exchange_access_credential(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_exa_cred_t *cred,
    ngx_uint_t *from_connection)
{
    ngx_http_exchange_access_conn_t  *conn;

    *from_connection = 0;

    if (r->headers_in.authorization) {

        if (ctx->pending) {
            *cred = *ctx->pending;
            return NGX_OK;
        }

        return ngx_http_exchange_access_parse(r, eacf, cred);
    }

    conn = ngx_http_exchange_access_connection(r, 0);

    if (conn == NULL
        || conn->state == NGX_HTTP_EXCHANGE_ACCESS_CONN_NONE
        || conn->serial != ngx_http_exchange_access_ntlm_kept(r->connection))
    {
        ngx_memzero(cred, offsetof(ngx_exa_cred_t, domain));
        cred->scheme = NGX_EXA_AUTH_NONE;
        cred->detail = "none";
        return NGX_OK;
    }

    *cred = conn->cred;
    *from_connection = 1;

    if (conn->state == NGX_HTTP_EXCHANGE_ACCESS_CONN_CLEARED) {
        cred->status = NGX_EXA_CRED_UNIDENTIFIED;
        cred->detail = "the backend refused a new handshake";
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "exchange access: decided on the %s identity "
                   "of the connection",
                   ngx_exa_scheme_name(cred->scheme));

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_parse(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf, ngx_exa_cred_t *cred)
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

    (void) ngx_exa_credential_parse(&eacf->cred, value->data, value->len,
                                    work, worklen, cred);

    /* the scratch buffer of a Basic credential holds a password */

    if (ngx_exa_scheme_flags(cred->scheme) & NGX_EXA_SCHEME_SECRET) {
        ngx_explicit_memzero(work, ngx_min(worklen, value->len));
    }

    return NGX_OK;
}


/*
 * An NTLM or Negotiate credential, in any location, even one where
 * exchange_access is off: kept with the request until the backend
 * answers it (ngx_http_exchange_access_answered()).
 */

static ngx_int_t
ngx_http_exchange_access_handshake(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_exa_cred_t                        *cred;
    ngx_table_elt_t                       *h;
    ngx_http_exchange_access_main_conf_t  *eamcf;

    h = r->headers_in.authorization;

    if (h == NULL
        || !(ngx_exa_scheme_flags(ngx_exa_scheme_of(h->value.data,
                                                    h->value.len))
             & NGX_EXA_SCHEME_CONNECTION)
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
    }

    if (ctx->pending) {
        return NGX_DECLINED;
    }

    cred = ngx_palloc(r->pool, sizeof(ngx_exa_cred_t));
    if (cred == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_exchange_access_parse(r, eacf, cred) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (cred->scheme == NGX_EXA_AUTH_NTLM
        || cred->scheme == NGX_EXA_AUTH_NEGOTIATE)
    {
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

static void
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

    if (ctx->session.list && ctx->pending->status == NGX_EXA_CRED_USER) {

        /* a list allowed this very handshake */

        ngx_http_exchange_access_conn_session(r, conn, ctx);

    } else {
        ngx_http_exchange_access_session_stop(&conn->session);
        conn->session.len = 0;
    }
}


/* an allowed request is a session of its user on its list */

static void
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
        conn = ngx_http_exchange_access_connection(r, 0);

        if (conn) {
            ngx_http_exchange_access_conn_session(r, conn, ctx);
        }
    }
}


/*
 * The connection is a session of its user on the list that allowed its
 * last request: the same user, since the connection's identity decided.
 */

static void
ngx_http_exchange_access_conn_session(ngx_http_request_t *r,
    ngx_http_exchange_access_conn_t *conn,
    ngx_http_exchange_access_ctx_t *ctx)
{
    ngx_http_exchange_access_session_t  *s;

    s = &conn->session;

    if (!s->linked
        || s->len != ctx->user.len
        || ngx_memcmp(conn->key, ctx->user.data, s->len) != 0)
    {
        s->started = ngx_time();
    }

    ngx_memcpy(conn->key, ctx->user.data, ctx->user.len);

    s->list = ctx->session.list;
    s->connection = r->connection;
    s->request = NULL;
    s->key = conn->key;
    s->len = ctx->user.len;
    s->domain = ctx->session.domain;
    s->domain_len = ctx->session.domain_len;
    s->first = ctx->session.first;
    s->protocol = ctx->protocol;
    s->audit = ctx->session.audit;

    ngx_http_exchange_access_session_start(s);
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


static ngx_http_exchange_access_conn_t *
ngx_http_exchange_access_connection(ngx_http_request_t *r, ngx_uint_t create)
{
    if (!ngx_http_exchange_access_conn_bound(r)) {
        return NULL;
    }

    return ngx_http_exchange_access_pool_data(r->connection->pool,
                                  ngx_http_exchange_access_conn_cleanup,
                                  sizeof(ngx_http_exchange_access_conn_t),
                                  create);
}


static void
ngx_http_exchange_access_conn_cleanup(void *data)
{
    ngx_http_exchange_access_conn_t  *conn = data;

    ngx_http_exchange_access_session_stop(&conn->session);
    ngx_explicit_memzero(conn, sizeof(ngx_http_exchange_access_conn_t));
}


static ngx_int_t
ngx_http_exchange_access_verdict(ngx_http_request_t *r,
    ngx_http_exchange_access_loc_conf_t *eacf,
    ngx_http_exchange_access_ctx_t *ctx, ngx_uint_t deny, ngx_uint_t reason,
    const char *detail, ngx_http_exchange_access_list_t *list)
{
    const char                *what;
    ngx_str_t                 *why, user, from;
    ngx_http_core_loc_conf_t  *clcf;

    ctx->reason = reason;

    if (!deny) {
        ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_ALLOW;
        ngx_http_exchange_access_remember(r, eacf, ctx, list);
        return NGX_DECLINED;
    }

    why = &ngx_http_exchange_access_reasons[reason];

    if (eacf->mode == NGX_HTTP_EXCHANGE_ACCESS_AUDIT) {
        ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_AUDITED;
        what = "audit: would deny";

    } else {
        ctx->decision = NGX_HTTP_EXCHANGE_ACCESS_DENY;
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

    } else if (reason == ngx_http_exchange_access_reason_path_confusion) {
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

    if (ctx->decision == NGX_HTTP_EXCHANGE_ACCESS_AUDITED) {
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

static ngx_int_t
ngx_http_exchange_access_log_handler(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx && ctx->decision) {
        ngx_http_exchange_access_count(r, ctx->protocol, ctx->decision);
    }

    return NGX_OK;
}


static ngx_http_exchange_access_ctx_t *
ngx_http_exchange_access_get_ctx(ngx_http_request_t *r)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_exchange_access_module);

    if (ctx) {
        return ctx;
    }

    /* the module context is wiped by internal redirects: find it again */

    ctx = ngx_http_exchange_access_pool_data(r->pool,
                                       ngx_http_exchange_access_cleanup,
                                       sizeof(ngx_http_exchange_access_ctx_t),
                                       1);
    if (ctx) {
        ngx_http_set_ctx(r, ctx, ngx_http_exchange_access_module);
    }

    return ctx;
}


/*
 * Data kept with a pool (the request's, or the connection's), found again
 * by the cleanup handler that marks it; created zeroed if asked.
 */

static void *
ngx_http_exchange_access_pool_data(ngx_pool_t *pool,
    ngx_pool_cleanup_pt handler, size_t size, ngx_uint_t create)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == handler) {
            return cln->data;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, size);
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(cln->data, size);
    cln->handler = handler;

    return cln->data;
}


static void
ngx_http_exchange_access_cleanup(void *data)
{
    ngx_http_exchange_access_ctx_t  *ctx = data;

    /* marks the context in r->pool->cleanup; the request's session ends */

    ngx_http_exchange_access_session_stop(&ctx->session);
}


static ngx_http_exchange_access_ctx_t *
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


static ngx_int_t
ngx_http_exchange_access_set_variable(ngx_http_variable_value_t *v,
    ngx_str_t *s)
{
    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_protocol_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                        s;
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx == NULL || ctx->decision == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    s.data = (u_char *) ngx_exa_protocol_name(ctx->protocol);
    s.len = ngx_strlen(s.data);

    return ngx_http_exchange_access_set_variable(v, &s);
}


static ngx_int_t
ngx_http_exchange_access_user_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_exchange_access_set_variable(v, &ctx->user);
}


static ngx_int_t
ngx_http_exchange_access_decision_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_exchange_access_set_variable(v,
                      &ngx_http_exchange_access_decision_names[ctx->decision]);
}


static ngx_int_t
ngx_http_exchange_access_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_exchange_access_ctx_t  *ctx;

    ctx = ngx_http_exchange_access_var_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_exchange_access_set_variable(v,
                                &ngx_http_exchange_access_reasons[ctx->reason]);
}


static void *
ngx_http_exchange_access_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_pcalloc(cf->pool,
                        sizeof(ngx_http_exchange_access_main_conf_t));
    if (eamcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&eamcf->lists, cf->pool, 2,
                       sizeof(ngx_http_exchange_access_list_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return eamcf;
}


static void *
ngx_http_exchange_access_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_exchange_access_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->lists = { NULL, ... };
     *     conf->groups = NULL;
     *     conf->names = { NULL, 0, NULL };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->unidentified = NGX_CONF_UNSET_UINT;
    conf->confusion = NGX_CONF_UNSET_UINT;
    conf->log_level = NGX_CONF_UNSET_UINT;
    conf->deny_status = NGX_CONF_UNSET_UINT;
    conf->restricted = NGX_CONF_UNSET_UINT;
    conf->internal = NGX_CONF_UNSET_PTR;
    conf->domains = NGX_CONF_UNSET_PTR;
    conf->claims = NGX_CONF_UNSET_PTR;
    conf->classify = NGX_CONF_UNSET_PTR;
    conf->user_maps = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_exchange_access_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_exchange_access_loc_conf_t *prev = parent;
    ngx_http_exchange_access_loc_conf_t *conf = child;

    ngx_http_exchange_access_main_conf_t  *eamcf;

    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_EXCHANGE_ACCESS_OFF);

    if (conf->mode != NGX_HTTP_EXCHANGE_ACCESS_OFF) {
        eamcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_exchange_access_module);
        eamcf->enabled = 1;
    }
    ngx_conf_merge_uint_value(conf->unidentified, prev->unidentified, 1);
    ngx_conf_merge_uint_value(conf->confusion, prev->confusion, 1);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level,
                              NGX_LOG_INFO);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status,
                              NGX_HTTP_FORBIDDEN);
    ngx_conf_merge_ptr_value(conf->internal, prev->internal, NULL);

    if (conf->domains == NGX_CONF_UNSET_PTR) {
        conf->domains = prev->domains;
        conf->groups = prev->groups;
    }

    if (conf->domains == NGX_CONF_UNSET_PTR) {
        conf->domains = NULL;
        conf->groups = NULL;
    }

    /* exchange_access_require is inherited as a whole, like allow/deny */

    if (conf->restricted == NGX_CONF_UNSET_UINT) {
        conf->restricted = prev->restricted;
        ngx_memcpy(conf->lists, prev->lists, sizeof(conf->lists));
    }

    if (conf->restricted == NGX_CONF_UNSET_UINT) {
        conf->restricted = 0;
    }

    ngx_conf_merge_ptr_value(conf->claims, prev->claims, NULL);
    ngx_conf_merge_ptr_value(conf->classify, prev->classify, NULL);
    ngx_conf_merge_ptr_value(conf->user_maps, prev->user_maps, NULL);

    if (conf->domains) {
        conf->names.domains = conf->domains->elts;
        conf->names.ndomains = conf->domains->nelts;
        conf->names.groups = conf->groups->elts;

    } else if (conf->restricted && conf->mode != NGX_HTTP_EXCHANGE_ACCESS_OFF)
    {
        eamcf = ngx_http_conf_get_module_main_conf(cf,
                                            ngx_http_exchange_access_module);
        eamcf->any_domain = 1;
    }

    if (conf->claims) {
        conf->cred.claims = conf->claims->elts;
        conf->cred.nclaims = conf->claims->nelts;
    }

    return NGX_CONF_OK;
}


/* exchange_access_require mapi rpc ... list=name; */

static char *
ngx_http_exchange_access_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    int                               proto;
    ngx_str_t                        *value, name;
    ngx_uint_t                        i, mask;
    ngx_http_exchange_access_list_t  *list;

    value = cf->args->elts;
    list = NULL;
    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "list=", 5) == 0) {

            if (list != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate \"list=\" parameter");
                return NGX_CONF_ERROR;
            }

            name.data = value[i].data + 5;
            name.len = value[i].len - 5;

            if (name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty list name in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            list = ngx_http_exchange_access_list_get(cf, &name);
            if (list == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        proto = ngx_exa_protocol_by_name(value[i].data, value[i].len);

        if (proto < 0) {
            return ngx_http_exchange_access_unknown_protocol(cf, &value[i]);
        }

        if ((mask & (1 << proto)) || eacf->lists[proto] != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "protocol \"%V\" is already required",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        mask |= 1 << proto;
    }

    if (list == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "missing \"list=\" parameter");
        return NGX_CONF_ERROR;
    }

    if (mask == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "no protocol given");
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < NGX_EXA_PROTO_N; i++) {
        if (mask & (1 << i)) {
            eacf->lists[i] = list;
        }
    }

    eacf->restricted = 1;

    return NGX_CONF_OK;
}


/* "unknown protocol", with the names the protocol table knows */

static char *
ngx_http_exchange_access_unknown_protocol(ngx_conf_t *cf, ngx_str_t *value)
{
    u_char      *p, *last;
    ngx_uint_t   i;
    u_char       names[256];

    p = names;
    last = names + sizeof(names);

    for (i = 0; i < NGX_EXA_PROTO_N; i++) {
        if (i != NGX_EXA_PROTO_OTHER) {
            p = ngx_slprintf(p, last, "%s%s", p == names ? "" : ", ",
                             ngx_exa_protocol_name(i));
        }
    }

    p = ngx_slprintf(p, last, " or %s",
                     ngx_exa_protocol_name(NGX_EXA_PROTO_OTHER));

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown protocol \"%V\", expected %*s",
                       value, p - names, names);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_exchange_access_internal(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_uint_t   i;
    ngx_cidr_t  *cidr;

    if (eacf->internal != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        eacf->internal = NULL;
        return NGX_CONF_OK;
    }

    eacf->internal = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                      sizeof(ngx_cidr_t));
    if (eacf->internal == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        cidr = ngx_array_push(eacf->internal);
        if (cidr == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_ptocidr(&value[i], cidr);

        if (rc == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DONE) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "low address bits of %V are meaningless",
                               &value[i]);
        }
    }

    return NGX_CONF_OK;
}


/*
 * exchange_access_domain EXAMPLE example.com CHILD child.example.com;
 *
 * A name without a dot is a NetBIOS domain and starts a group; the dotted
 * names after it are that domain's DNS names and UPN suffixes.
 */

static char *
ngx_http_exchange_access_domain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    u_char         *p;
    size_t         *g, group;
    ngx_str_t      *value;
    ngx_uint_t      i, j;
    ngx_exa_str_t  *d;

    if (eacf->domains != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    eacf->domains = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_exa_str_t));
    if (eacf->domains == NULL) {
        return NGX_CONF_ERROR;
    }

    eacf->groups = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(size_t));
    if (eacf->groups == NULL) {
        return NGX_CONF_ERROR;
    }

    group = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        for (j = 0; j < value[i].len; j++) {
            if (value[i].data[j] <= ' ' || value[i].data[j] >= 0x7f
                || value[i].data[j] == '\\' || value[i].data[j] == '@')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid domain \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '.')
            == NULL)
        {
            /* a NetBIOS name: a group of its own */

            if (!ngx_exa_netbios_valid(value[i].data, value[i].len)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid NetBIOS domain name \"%V\" "
                                   "(at most 15 characters)", &value[i]);
                return NGX_CONF_ERROR;
            }

            group = eacf->domains->nelts;

        } else if (i == 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" comes before any NetBIOS domain name: "
                               "each group starts with the NetBIOS name, "
                               "then its DNS names and UPN suffixes, as in "
                               "\"EXAMPLE example.com\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        p = ngx_pnalloc(cf->pool, value[i].len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_strlow(p, value[i].data, value[i].len);

        d = eacf->domains->elts;

        for (j = 0; j < eacf->domains->nelts; j++) {
            if (d[j].len == value[i].len
                && ngx_memcmp(d[j].data, p, d[j].len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "domain \"%V\" is given twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        d = ngx_array_push(eacf->domains);
        g = ngx_array_push(eacf->groups);
        if (d == NULL || g == NULL) {
            return NGX_CONF_ERROR;
        }

        d->data = p;
        d->len = value[i].len;
        *g = group;
    }

    return NGX_CONF_OK;
}


/* exchange_access_bearer_claims upn unique_name ...; */

static char *
ngx_http_exchange_access_claims(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    ngx_exa_str_t  *claim;

    if (eacf->claims != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    if (cf->args->nelts - 1 > 8) {
        return "takes at most 8 claims";
    }

    value = cf->args->elts;

    eacf->claims = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_exa_str_t));
    if (eacf->claims == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0 || value[i].len > 64) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid claim name \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        claim = ngx_array_push(eacf->claims);
        if (claim == NULL) {
            return NGX_CONF_ERROR;
        }

        claim->data = value[i].data;
        claim->len = value[i].len;
    }

    return NGX_CONF_OK;
}


#if (NGX_PCRE)

/* "~pattern" or "~*pattern" */

static ngx_int_t
ngx_http_exchange_access_regex(ngx_conf_t *cf, ngx_str_t *value,
    ngx_regex_compile_t *rc, u_char *errstr)
{
    ngx_memzero(rc, sizeof(ngx_regex_compile_t));

    if (value->len < 2 || value->data[0] != '~') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be a regular expression starting "
                           "with \"~\" (or \"~*\" to ignore case)", value);
        return NGX_ERROR;
    }

    rc->pattern.data = value->data + 1;
    rc->pattern.len = value->len - 1;

    if (rc->pattern.data[0] == '*') {
        rc->pattern.data++;
        rc->pattern.len--;
        rc->options = NGX_REGEX_CASELESS;
    }

    if (rc->pattern.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty regular expression");
        return NGX_ERROR;
    }

    rc->pool = cf->pool;
    rc->err.len = NGX_MAX_CONF_ERRSTR;
    rc->err.data = errstr;

    return NGX_OK;
}

#endif


/* exchange_access_classify ~*^/custom-outlook/ mapi; */

static char *
ngx_http_exchange_access_classify_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
#if (NGX_PCRE)
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    int                                   proto;
    ngx_str_t                            *value;
    ngx_regex_compile_t                   rc;
    ngx_http_exchange_access_classify_t  *rule;
    u_char                                errstr[NGX_MAX_CONF_ERRSTR];

    value = cf->args->elts;

    proto = ngx_exa_protocol_by_name(value[2].data, value[2].len);

    if (proto < 0) {
        return ngx_http_exchange_access_unknown_protocol(cf, &value[2]);
    }

    if (ngx_http_exchange_access_regex(cf, &value[1], &rc, errstr)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V", &rc.err);
        return NGX_CONF_ERROR;
    }

    if (eacf->classify == NGX_CONF_UNSET_PTR) {
        eacf->classify = ngx_array_create(cf->pool, 2,
                                  sizeof(ngx_http_exchange_access_classify_t));
        if (eacf->classify == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(eacf->classify);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    rule->regex = rc.regex;
    rule->protocol = proto;

    ngx_exa_regex_literals(rc.pattern.data, rc.pattern.len,
                           rc.options & NGX_REGEX_CASELESS, &rule->lit);

    return NGX_CONF_OK;

#else
    return "requires nginx built with PCRE";
#endif
}


/* exchange_access_user_map ~^(?<u>[^@]+)@corp\.example$ $u@example.com; */

static char *
ngx_http_exchange_access_user_map(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
#if (NGX_PCRE)
    ngx_http_exchange_access_loc_conf_t *eacf = conf;

    ngx_str_t                            *value;
    ngx_regex_compile_t                   rc;
    ngx_http_exchange_access_user_map_t  *map;
    ngx_http_compile_complex_value_t      ccv;
    u_char                                errstr[NGX_MAX_CONF_ERRSTR];

    value = cf->args->elts;

    if (eacf->user_maps == NGX_CONF_UNSET_PTR) {
        eacf->user_maps = ngx_array_create(cf->pool, 2,
                                  sizeof(ngx_http_exchange_access_user_map_t));
        if (eacf->user_maps == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    map = ngx_array_push(eacf->user_maps);
    if (map == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(map, sizeof(ngx_http_exchange_access_user_map_t));

    if (ngx_http_exchange_access_regex(cf, &value[1], &rc, errstr)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    map->regex = ngx_http_regex_compile(cf, &rc);
    if (map->regex == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_exa_regex_literals(rc.pattern.data, rc.pattern.len,
                           rc.options & NGX_REGEX_CASELESS, &map->lit);

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &map->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else
    return "requires nginx built with PCRE";
#endif
}


static ngx_int_t
ngx_http_exchange_access_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_exchange_access_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_exchange_access_list_check(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_exchange_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_exchange_access_log_handler;

    ngx_http_exchange_access_ntlm_answered =
                                    ngx_http_exchange_access_upstream_answered;

    return ngx_http_exchange_access_stats_init(cf);
}


/* once a configuration is in place, in its error log */

static ngx_int_t
ngx_http_exchange_access_init_module(ngx_cycle_t *cycle)
{
    ngx_http_exchange_access_main_conf_t  *eamcf;

    eamcf = ngx_http_cycle_get_module_main_conf(cycle,
                                            ngx_http_exchange_access_module);

    if (eamcf && eamcf->any_domain) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "exchange_access_require without "
                      "exchange_access_domain accepts names of any domain: "
                      "DOMAIN\\user of another domain matches the user "
                      "listed for ours");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_exchange_access_list_init_worker(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_exchange_access_session_init_worker(cycle);
}
