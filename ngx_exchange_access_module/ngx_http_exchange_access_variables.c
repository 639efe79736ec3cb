
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/* $exchange_protocol, $exchange_user, $exchange_access and its reason */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_request.h"


static ngx_int_t ngx_http_exchange_access_protocol_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_user_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_decision_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_exchange_access_reason_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


ngx_str_t  ngx_http_exchange_access_decision_names[] = {
    ngx_null_string,
    ngx_string("pass"),
    ngx_string("allow"),
    ngx_string("deny"),
    ngx_string("audit")
};

NGX_EXA_ASSERT(decisions,
               NGX_EXA_NELTS(ngx_http_exchange_access_decision_names)
               == NGX_EXA_DECISION_N);


ngx_str_t  ngx_http_exchange_access_reasons[] = {
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
                        == NGX_EXA_REASON_N);


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


ngx_int_t
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
