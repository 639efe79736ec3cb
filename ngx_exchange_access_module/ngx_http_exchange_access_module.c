
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_request.h"


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
static ngx_int_t ngx_http_exchange_access_index(ngx_conf_t *cf,
    ngx_array_t *rules, size_t lit, ngx_exa_rules_t **index);
static ngx_int_t ngx_http_exchange_access_regex(ngx_conf_t *cf,
    ngx_str_t *value, ngx_regex_compile_t *rc, u_char *errstr);
#endif
static char *ngx_http_exchange_access_classify_rule(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_user_map(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_exchange_access_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_exchange_access_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_exchange_access_init_process(ngx_cycle_t *cycle);
static void ngx_http_exchange_access_exit_process(ngx_cycle_t *cycle);


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
    ngx_http_exchange_access_exit_process,     /* exit process */
    NULL,                                      /* exit master */
    NGX_MODULE_V1_PADDING
};

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

#if (NGX_PCRE)

    /* rules inherited as a whole share their index */

    if (conf->classify == prev->classify) {
        conf->classify_index = prev->classify_index;
    }

    if (conf->user_maps == prev->user_maps) {
        conf->user_map_index = prev->user_map_index;
    }

    if (ngx_http_exchange_access_index(cf, conf->classify,
            offsetof(ngx_http_exchange_access_classify_t, lit),
            &conf->classify_index)
        != NGX_OK
        || ngx_http_exchange_access_index(cf, conf->user_maps,
               offsetof(ngx_http_exchange_access_user_map_t, lit),
               &conf->user_map_index)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

#endif

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

/*
 * The index of a list of rules by the first two bytes of their literal
 * prefixes (ngx_exa_rules_t), made once the list is complete; "lit" is
 * where a rule keeps its ngx_exa_literals_t.
 */

static ngx_int_t
ngx_http_exchange_access_index(ngx_conf_t *cf, ngx_array_t *rules,
    size_t lit, ngx_exa_rules_t **index)
{
    void             *mem;
    u_char           *rule;
    ngx_uint_t        i;
    ngx_exa_rules_t  *rs;

    if (rules == NULL || *index != NULL) {
        return NGX_OK;
    }

    rs = ngx_palloc(cf->pool, sizeof(ngx_exa_rules_t));
    mem = ngx_palloc(cf->pool, ngx_exa_rules_size(rules->nelts));

    if (rs == NULL || mem == NULL) {
        return NGX_ERROR;
    }

    ngx_exa_rules_init(rs, mem, rules->nelts);

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        ngx_exa_rules_add(rs, i,
                          (ngx_exa_literals_t *) (rule + i * rules->size
                                                  + lit));
    }

    *index = rs;

    return NGX_OK;
}


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
    return ngx_http_exchange_access_session_init_worker(cycle);
}


static void
ngx_http_exchange_access_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_exchange_access_list_exit_worker(cycle);
}
