
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ldap.h"


/*
 * The LDAP source's directives in the list block, and their checks once
 * the block is read: the password file is read and the TLS context made
 * here, by the master.
 */


static void *ngx_http_exchange_access_ldap_create_conf(ngx_conf_t *cf);
static char *ngx_http_exchange_access_ldap_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);
static time_t ngx_http_exchange_access_ldap_lease(
    ngx_http_exchange_access_list_t *list);
static char *ngx_http_exchange_access_ldap_url(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_ldap_url_value(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf, ngx_str_t *value);
static char *ngx_http_exchange_access_ldap_group(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_ldap_attributes(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_exchange_access_ldap_filter(ngx_conf_t *cf,
    void *post, void *data);
static char *ngx_http_exchange_access_ldap_timeout(ngx_conf_t *cf,
    void *post, void *data);
static ngx_int_t ngx_http_exchange_access_ldap_read_password(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf);
static ngx_int_t ngx_http_exchange_access_ldap_lr_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf);
static ngx_int_t ngx_http_exchange_access_ldap_library(ngx_conf_t *cf);
static char *ngx_http_exchange_access_ldap_ssl(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list,
    ngx_http_exchange_access_ldap_conf_t *lcf);


static ngx_conf_enum_t  ngx_http_exchange_access_ldap_nested[] = {
    { ngx_string("off"), NGX_EXA_LDAP_NESTED_OFF },
    { ngx_string("chain"), NGX_EXA_LDAP_NESTED_CHAIN },
    { ngx_string("walk"), NGX_EXA_LDAP_NESTED_WALK },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_exchange_access_ldap_watch_modes[] = {
    { ngx_string("off"), NGX_HTTP_EXCHANGE_ACCESS_WATCH_OFF },
    { ngx_string("poll"), NGX_EXA_LW_MODE_POLL },
    { ngx_string("notify"), NGX_EXA_LW_MODE_NOTIFY },
    { ngx_string("syncrepl"), NGX_EXA_LW_MODE_SYNC },
    { ngx_null_string, 0 }
};


static ngx_http_exchange_access_path_post_t
    ngx_http_exchange_access_ldap_password_post =
    { ngx_http_exchange_access_conf_full_name, 1 };

static ngx_conf_post_handler_pt  ngx_http_exchange_access_ldap_filter_post =
    ngx_http_exchange_access_ldap_filter;

static ngx_conf_post_handler_pt  ngx_http_exchange_access_ldap_timeout_post =
    ngx_http_exchange_access_ldap_timeout;


static ngx_command_t  ngx_http_exchange_access_ldap_commands[] = {

    { ngx_string("ldap_url"),
      NGX_CONF_1MORE,
      ngx_http_exchange_access_ldap_url,
      0,
      0,
      NULL },

    { ngx_string("ldap_starttls"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, starttls),
      NULL },

    { ngx_string("ldap_verify"),
      NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, verify),
      NULL },

    { ngx_string("ldap_trusted_certificate"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, trusted),
      NULL },

    { ngx_string("ldap_bind_dn"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, bind_dn),
      NULL },

    { ngx_string("ldap_bind_password_file"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, password_file),
      &ngx_http_exchange_access_ldap_password_post },

    { ngx_string("ldap_base"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, base),
      NULL },

    { ngx_string("ldap_group"),
      NGX_CONF_1MORE,
      ngx_http_exchange_access_ldap_group,
      0,
      0,
      NULL },

    { ngx_string("ldap_nested"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, nested),
      &ngx_http_exchange_access_ldap_nested },

    { ngx_string("ldap_filter"),
      NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, filter),
      &ngx_http_exchange_access_ldap_filter_post },

    { ngx_string("ldap_user_attributes"),
      NGX_CONF_1MORE,
      ngx_http_exchange_access_ldap_attributes,
      0,
      0,
      NULL },

    { ngx_string("ldap_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, timeout),
      &ngx_http_exchange_access_ldap_timeout_post },

    { ngx_string("ldap_refresh_timeout"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, refresh_timeout),
      &ngx_http_exchange_access_ldap_timeout_post },

    { ngx_string("ldap_watch"),
      NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, watch),
      &ngx_http_exchange_access_ldap_watch_modes },

    { ngx_string("ldap_watch_interval"),
      NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      0,
      offsetof(ngx_http_exchange_access_ldap_conf_t, watch_interval),
      &ngx_http_exchange_access_ldap_timeout_post },

      ngx_null_command
};


ngx_http_exchange_access_source_t  ngx_http_exchange_access_ldap_source = {
    ngx_string("ldap"),
    ngx_http_exchange_access_ldap_commands,
    ngx_http_exchange_access_ldap_create_conf,
    ngx_http_exchange_access_ldap_init_conf,
    ngx_http_exchange_access_ldap_refresh,
    ngx_http_exchange_access_ldap_lease,
    ngx_http_exchange_access_ldap_watch,
    1
};


static void *
ngx_http_exchange_access_ldap_create_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t                    *cln;
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_ldap_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->urls = NULL;
     *     lcf->trusted = { 0, NULL };
     *     lcf->bind_dn = { 0, NULL };
     *     lcf->password = { 0, NULL };
     *     lcf->password_file = { 0, NULL };
     *     lcf->base = { 0, NULL };
     *     lcf->groups = NULL;
     *     lcf->filter = { 0, NULL };
     *     lcf->attrs = NULL;
     */

    lcf->starttls = NGX_CONF_UNSET;
    lcf->verify = NGX_CONF_UNSET;
    lcf->nested = NGX_CONF_UNSET_UINT;
    lcf->timeout = NGX_CONF_UNSET_MSEC;
    lcf->refresh_timeout = NGX_CONF_UNSET_MSEC;
    lcf->watch = NGX_CONF_UNSET_UINT;
    lcf->watch_interval = NGX_CONF_UNSET_MSEC;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_exchange_access_ldap_known_free;
    cln->data = &lcf->known;

    return lcf;
}


/* a refresh holds the lease while the server answers, see ldap.c */

static time_t
ngx_http_exchange_access_ldap_lease(ngx_http_exchange_access_list_t *list)
{
    ngx_http_exchange_access_ldap_conf_t  *lcf = list->source_conf;

    return 2 * (lcf->timeout / 1000 + 1);
}


/* ldap_url url ...; */

static char *
ngx_http_exchange_access_ldap_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_ldap_conf_t *lcf = conf;

    char        *rv;
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_http_exchange_access_ldap_url_value(cf, lcf, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


/* ldap://host[:port][/] or ldaps://host[:port][/], resolved now */

static char *
ngx_http_exchange_access_ldap_url_value(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf, ngx_str_t *value)
{
    ngx_url_t                             u;
    ngx_uint_t                            ldaps;
    ngx_http_exchange_access_ldap_url_t  *url;

    if (value->len > 7 && ngx_strncasecmp(value->data, (u_char *) "ldap://", 7)
                          == 0)
    {
        ldaps = 0;
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url.data = value->data + 7;
        u.url.len = value->len - 7;
        u.default_port = 389;

    } else if (value->len > 8
               && ngx_strncasecmp(value->data, (u_char *) "ldaps://", 8) == 0)
    {
        ldaps = 1;
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url.data = value->data + 8;
        u.url.len = value->len - 8;
        u.default_port = 636;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ldap_url \"%V\": it must start with "
                           "ldap:// or ldaps://", value);
        return NGX_CONF_ERROR;
    }

    if (u.url.len && u.url.data[u.url.len - 1] == '/') {
        u.url.len--;
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in ldap_url \"%V\"",
                           u.err ? u.err : "invalid address", value);
        return NGX_CONF_ERROR;
    }

    if (u.uri.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ldap_url \"%V\" must not have a path: use "
                           "ldap_base", value);
        return NGX_CONF_ERROR;
    }

    if (lcf->urls == NULL) {
        lcf->urls = ngx_array_create(cf->pool, 2,
                                  sizeof(ngx_http_exchange_access_ldap_url_t));
        if (lcf->urls == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    url = ngx_array_push(lcf->urls);
    if (url == NULL) {
        return NGX_CONF_ERROR;
    }

    url->url = *value;
    url->host = u.host;
    url->addrs = u.addrs;
    url->naddrs = u.naddrs;
    url->ldaps = ldaps;

    return NGX_CONF_OK;
}


/* ldap_group dn ...; repeatable */

static char *
ngx_http_exchange_access_ldap_group(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_ldap_conf_t *lcf = conf;

    ngx_str_t   *value, *s;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (lcf->groups == NULL) {
        lcf->groups = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_str_t));
        if (lcf->groups == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(lcf->groups);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


/* ldap_user_attributes name ...; a NULL-terminated array for libldap */

static char *
ngx_http_exchange_access_ldap_attributes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_exchange_access_ldap_conf_t *lcf = conf;

    char       **a;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->attrs) {
        return "is duplicate";
    }

    value = cf->args->elts;

    lcf->attrs = ngx_array_create(cf->pool, cf->args->nelts, sizeof(char *));
    if (lcf->attrs == NULL) {
        return NGX_CONF_ERROR;
    }

    a = ngx_array_push_n(lcf->attrs, cf->args->nelts);
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the configuration parser keeps every word NUL-terminated */

    for (i = 1; i < cf->args->nelts; i++) {
        a[i - 1] = (char *) value[i].data;
    }

    a[cf->args->nelts - 1] = NULL;

    return NGX_CONF_OK;
}


static char *
ngx_http_exchange_access_ldap_filter(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *filter = data;

    if (!ngx_exa_ldap_filter_valid(filter->data, filter->len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ldap_filter \"%V\": it must be one "
                           "filter in parentheses", filter);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_exchange_access_ldap_timeout(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    return (*ms == 0) ? "invalid value" : NGX_CONF_OK;
}


/* after the block: defaults, checks, the password, TLS */

static char *
ngx_http_exchange_access_ldap_init_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    char                                 **a;
    ngx_uint_t                             i, tls;
    ngx_str_t                             *g;
    ngx_conf_enum_t                       *m;
    ngx_http_exchange_access_ldap_url_t   *url;
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    lcf = list->source_conf;

    if (lcf->urls == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has no \"ldap_url\"",
                           &list->name);
        return NGX_CONF_ERROR;
    }

    if (lcf->base.len == 0 || lcf->groups == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" needs \"ldap_base\" "
                           "and \"ldap_group\"", &list->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(lcf->starttls, 0);
    ngx_conf_init_value(lcf->verify, 1);
    ngx_conf_init_uint_value(lcf->nested,
                             NGX_EXA_LDAP_NESTED_CHAIN);
    ngx_conf_init_msec_value(lcf->timeout, 10000);
    ngx_conf_init_msec_value(lcf->refresh_timeout, 120000);
    ngx_conf_init_uint_value(lcf->watch, NGX_EXA_LW_MODE_POLL);
    ngx_conf_init_msec_value(lcf->watch_interval, 2000);

    for (m = ngx_http_exchange_access_ldap_watch_modes; m->name.len; m++) {
        if (m->value == lcf->watch) {
            list->watch_mode = m->name;
        }
    }

    if (lcf->attrs == NULL) {
        lcf->attrs = ngx_array_create(cf->pool, 3, sizeof(char *));
        if (lcf->attrs == NULL) {
            return NGX_CONF_ERROR;
        }

        a = ngx_array_push_n(lcf->attrs, 3);
        if (a == NULL) {
            return NGX_CONF_ERROR;
        }

        a[0] = "sAMAccountName";
        a[1] = "userPrincipalName";
        a[2] = NULL;
    }

    /* the DNs are handed to libldap: make sure each ends with NUL */

    g = lcf->groups->elts;

    for (i = 0; i < lcf->groups->nelts; i++) {
        if (ngx_strlen(g[i].data) != g[i].len) {
            return NGX_CONF_ERROR;
        }
    }

    if (lcf->bind_dn.len && lcf->password_file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ldap_bind_dn\" of exchange_access_list \"%V\" "
                           "needs \"ldap_bind_password_file\"", &list->name);
        return NGX_CONF_ERROR;
    }

    if (lcf->password_file.len) {
        if (lcf->bind_dn.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"ldap_bind_password_file\" of "
                               "exchange_access_list \"%V\" needs "
                               "\"ldap_bind_dn\"", &list->name);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_exchange_access_ldap_read_password(cf, lcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_exchange_access_ldap_lr_conf(cf, lcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_exchange_access_ldap_library(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    tls = lcf->starttls;
    url = lcf->urls->elts;

    for (i = 0; i < lcf->urls->nelts; i++) {
        if (url[i].ldaps) {
            tls = 1;

            if (lcf->starttls) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"ldap_starttls on\" with ldaps:// "
                                   "in exchange_access_list \"%V\"",
                                   &list->name);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (tls) {
        return ngx_http_exchange_access_ldap_ssl(cf, list, lcf);
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_exchange_access_ldap_read_password(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf)
{
    u_char      *p;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_str_t   *name;
    u_char       buf[1024];

    name = &lcf->password_file;

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed "
                           "(ldap_bind_password_file)", name);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));

    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    if (n == 0 || n == (ssize_t) sizeof(buf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ldap_bind_password_file \"%V\" is empty or "
                           "longer than %uz bytes", name, sizeof(buf) - 1);
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, n + 1);
    if (p == NULL) {
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    ngx_memcpy(p, buf, n);
    p[n] = '\0';
    ngx_explicit_memzero(buf, sizeof(buf));

    lcf->password.data = p;
    lcf->password.len = n;

    return NGX_OK;
}


/* what the refresh's logic needs, as C strings */

static ngx_int_t
ngx_http_exchange_access_ldap_lr_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf)
{
    ngx_str_t           *g;
    ngx_uint_t           i;
    const char         **groups;
    ngx_exa_lr_conf_t   *lr;

    lr = &lcf->lr;

    groups = ngx_palloc(cf->pool, lcf->groups->nelts * sizeof(char *));
    if (groups == NULL) {
        return NGX_ERROR;
    }

    /* configuration words are NUL-terminated */

    g = lcf->groups->elts;

    for (i = 0; i < lcf->groups->nelts; i++) {
        groups[i] = (const char *) g[i].data;
    }

    lr->base = (const char *) lcf->base.data;
    lr->groups = groups;
    lr->ngroups = lcf->groups->nelts;
    lr->nested = lcf->nested;
    lr->filter = lcf->filter.len ? (const char *) lcf->filter.data : "";
    lr->attrs = lcf->attrs->elts;
    lr->bind_dn = lcf->bind_dn.len ? (const char *) lcf->bind_dn.data : "";
    lr->password = (const char *) lcf->password.data;
    lr->password_len = lcf->password.len;

    /* Active Directory's logon names are kept with their domain */
    lr->domains = 1;

    /* a call of the refresh's logic: one turn of the event loop */
    lr->step_usec = NGX_HTTP_EXCHANGE_ACCESS_STEP_USEC;

    /* a message of AD is a page of 1,000 entries, or 1,500 values */
    lr->message_max = 32 * 1024 * 1024;

    return NGX_OK;
}


/* ldaps:// or StartTLS: nginx's OpenSSL, with the CAs to trust */

/*
 * libldap sets itself up on its first use: it looks the host's own name
 * up through the resolver (a DNS query when /etc/hosts does not have it),
 * loads the SASL plugins and reads ldap.conf.  In a worker that would be
 * blocking calls on the event loop at the first refresh of every new
 * worker; here, while the master reads the configuration, it is done once
 * and the workers inherit a library already set up.
 */

static ngx_int_t
ngx_http_exchange_access_ldap_library(ngx_conf_t *cf)
{
    int  version;

    if (ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version)
        != LDAP_OPT_SUCCESS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the LDAP library could not set itself up");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_exchange_access_ldap_ssl(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list,
    ngx_http_exchange_access_ldap_conf_t *lcf)
{
#if (NGX_SSL)
    ngx_pool_cleanup_t  *cln;

    lcf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (lcf->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    lcf->ssl->log = cf->log;

    if (ngx_ssl_create(lcf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(lcf->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = lcf->ssl;

    /*
     * nginx reads ahead; libldap, which decides whether to read by
     * polling the socket, must not find records held in OpenSSL
     */

    SSL_CTX_set_read_ahead(lcf->ssl->ctx, 0);

    if (lcf->trusted.len) {
        if (ngx_ssl_trusted_certificate(cf, lcf->ssl, &lcf->trusted, 4)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (lcf->verify) {
        if (SSL_CTX_set_default_verify_paths(lcf->ssl->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            return NGX_CONF_ERROR;
        }
    }
#else
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "exchange_access_list \"%V\": ldaps:// and "
                       "StartTLS need nginx built with SSL",
                       &list->name);
    return NGX_CONF_ERROR;
#endif

    return NGX_CONF_OK;
}
