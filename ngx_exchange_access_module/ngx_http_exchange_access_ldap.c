
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ldap.h>
#include <lber.h>
#include <openldap.h>

#include "ngx_http_exchange_access_module.h"


/*
 * The LDAP source of an allow-list.  A refresh runs in one worker on
 * nginx's event loop: the connection is nginx's (non-blocking, TLS by
 * nginx's OpenSSL), and libldap only encodes requests and decodes answers
 * through a Sockbuf I/O layer that reads and writes that connection.
 * libldap is never asked to wait: ldap_result() is polled with a zero
 * timeout when the connection is readable.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_PAGE_SIZE   1000
#define NGX_HTTP_EXCHANGE_ACCESS_PAGES_MAX   100000
#define NGX_HTTP_EXCHANGE_ACCESS_DEPTH_MAX   32
#define NGX_HTTP_EXCHANGE_ACCESS_WINDOW      32

#define NGX_HTTP_EXCHANGE_ACCESS_IN_CHAIN    "1.2.840.113556.1.4.1941"


typedef enum {
    ngx_http_exchange_access_st_connect = 0,
    ngx_http_exchange_access_st_tls,
    ngx_http_exchange_access_st_starttls,
    ngx_http_exchange_access_st_bind,
    ngx_http_exchange_access_st_groups,       /* base reads of groups */
    ngx_http_exchange_access_st_all_groups,   /* walk: which DNs are groups */
    ngx_http_exchange_access_st_users,        /* paged search of users */
    ngx_http_exchange_access_st_done
} ngx_http_exchange_access_ldap_state_e;


typedef struct {
    ngx_str_t                         dn;         /* with NUL */
    ngx_uint_t                        depth;
    ngx_uint_t                        configured; /* unsigned:1 */
    ngx_uint_t                        range;      /* first value to read */
    int                               msgid;      /* of its read, or -1 */
} ngx_http_exchange_access_ldap_group_t;


typedef struct {
    ngx_http_exchange_access_list_t      *list;
    ngx_http_exchange_access_ldap_conf_t *lcf;
    ngx_pool_t                           *pool;
    ngx_log_t                            *log;

    ngx_peer_connection_t                 peer;
    LDAP                                 *ld;

    ngx_uint_t                            url;
    ngx_uint_t                            addr;
    ngx_uint_t                            state;
    int                                   msgid;
    ngx_msec_t                            start;

    /* group reads: a queue, a window of requests in flight */
    ngx_array_t                           groups;     /* of group_t */
    ngx_uint_t                            next_group;
    ngx_uint_t                            in_flight;
    ngx_rbtree_t                          seen;       /* DNs of groups */
    ngx_rbtree_node_t                     seen_sentinel;
    ngx_rbtree_t                          members;    /* DNs of users */
    ngx_rbtree_node_t                     members_sentinel;
    ngx_rbtree_t                          all_groups;
    ngx_rbtree_node_t                     all_groups_sentinel;
    ngx_uint_t                            nmembers;
    ngx_uint_t                            group_values;  /* members seen */
    ngx_str_t                             chain_filter;

    /* paging */
    struct berval                        *cookie;
    ngx_uint_t                            pages;
    time_t                                extended;   /* the lease, last */

    ngx_array_t                          *keys;       /* of ngx_exa_str_t */
    ngx_uint_t                            skipped;

    u_char                    error[NGX_HTTP_EXCHANGE_ACCESS_ERR_LEN];
} ngx_http_exchange_access_ldap_ctx_t;


static char *ngx_http_exchange_access_ldap_url(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf, ngx_str_t *value);
static ngx_int_t ngx_http_exchange_access_ldap_read_password(ngx_conf_t *cf,
    ngx_http_exchange_access_ldap_conf_t *lcf);
static ngx_int_t ngx_http_exchange_access_read_state(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list);

static void ngx_http_exchange_access_ldap_next_url(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *fmt, ...);
static void ngx_http_exchange_access_ldap_connect_url(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_ldap_get_peer(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_exchange_access_ldap_connected(ngx_event_t *wev);
static void ngx_http_exchange_access_ldap_dummy(ngx_event_t *ev);
static ngx_int_t ngx_http_exchange_access_ldap_start(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
#if (NGX_SSL)
static void ngx_http_exchange_access_ldap_tls(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_exchange_access_ldap_bind(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_read(ngx_event_t *rev);
static ngx_int_t ngx_http_exchange_access_ldap_message(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *msg);
static ngx_int_t ngx_http_exchange_access_ldap_result(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *msg,
    ngx_uint_t paged);
static ngx_int_t ngx_http_exchange_access_ldap_read_groups(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_ldap_group_entry(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *entry);
static ngx_int_t ngx_http_exchange_access_ldap_search_users(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_ldap_search_groups(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static ngx_int_t ngx_http_exchange_access_ldap_paged(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *filter,
    char **attrs);
static ngx_int_t ngx_http_exchange_access_ldap_user_entry(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *entry);
static ngx_int_t ngx_http_exchange_access_ldap_remember(ngx_rbtree_t *tree,
    ngx_pool_t *pool, const char *dn, size_t len, ngx_uint_t *added);
static ngx_int_t ngx_http_exchange_access_ldap_known(ngx_rbtree_t *tree,
    const char *dn, size_t len, u_char *buf);
static void ngx_http_exchange_access_ldap_finish(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *error);
static void ngx_http_exchange_access_ldap_close(
    ngx_http_exchange_access_ldap_ctx_t *ctx);
static void ngx_http_exchange_access_ldap_error(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *fmt, ...);

static int ngx_http_exchange_access_sb_setup(Sockbuf_IO_Desc *sbiod,
    void *arg);
static int ngx_http_exchange_access_sb_remove(Sockbuf_IO_Desc *sbiod);
static int ngx_http_exchange_access_sb_ctrl(Sockbuf_IO_Desc *sbiod, int opt,
    void *arg);
static ber_slen_t ngx_http_exchange_access_sb_read(Sockbuf_IO_Desc *sbiod,
    void *buf, ber_len_t len);
static ber_slen_t ngx_http_exchange_access_sb_write(Sockbuf_IO_Desc *sbiod,
    void *buf, ber_len_t len);
static int ngx_http_exchange_access_sb_close(Sockbuf_IO_Desc *sbiod);
static ber_slen_t ngx_http_exchange_access_sb_result(ssize_t n);


static Sockbuf_IO  ngx_http_exchange_access_sbio = {
    ngx_http_exchange_access_sb_setup,
    ngx_http_exchange_access_sb_remove,
    ngx_http_exchange_access_sb_ctrl,
    ngx_http_exchange_access_sb_read,
    ngx_http_exchange_access_sb_write,
    ngx_http_exchange_access_sb_close
};


static ngx_conf_enum_t  ngx_http_exchange_access_nested[] = {
    { ngx_string("off"), NGX_HTTP_EXCHANGE_ACCESS_NESTED_OFF },
    { ngx_string("chain"), NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN },
    { ngx_string("walk"), NGX_HTTP_EXCHANGE_ACCESS_NESTED_WALK },
    { ngx_null_string, 0 }
};


/* configuration: the ldap_*, refresh and state_file lines of a list */

#define ngx_http_exchange_access_is(v, s)                                    \
    ((v)->len == sizeof(s) - 1 && ngx_strncmp((v)->data, s, (v)->len) == 0)


static ngx_http_exchange_access_ldap_conf_t *
ngx_http_exchange_access_ldap_conf(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    if (list->ldap) {
        return list->ldap;
    }

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_exchange_access_ldap_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->starttls = NGX_CONF_UNSET;
    lcf->verify = NGX_CONF_UNSET;
    lcf->nested = NGX_CONF_UNSET_UINT;
    lcf->timeout = NGX_CONF_UNSET_MSEC;

    list->ldap = lcf;

    return lcf;
}


char *
ngx_http_exchange_access_ldap_param(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    char                                  *rv;
    time_t                                 t;
    ngx_str_t                             *value, *s;
    ngx_msec_t                             ms;
    ngx_uint_t                             i, n;
    ngx_conf_enum_t                       *e;
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    value = cf->args->elts;
    n = cf->args->nelts;

    if (ngx_http_exchange_access_is(&value[0], "refresh") && n == 2) {
        t = ngx_parse_time(&value[1], 1);

        if (t == (time_t) NGX_ERROR || t < 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid refresh \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        list->refresh = t;
        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "state_file") && n == 2) {
        list->state_file = value[1];

        if (ngx_conf_full_name(cf->cycle, &list->state_file, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (value[0].len < 5 || ngx_strncmp(value[0].data, "ldap_", 5) != 0) {
        return NGX_HTTP_EXCHANGE_ACCESS_NOT_MINE;
    }

    if (list->source == NGX_HTTP_EXCHANGE_ACCESS_SRC_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "exchange_access_list \"%V\" has more than "
                           "one source", &list->name);
        return NGX_CONF_ERROR;
    }

    list->source = NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP;

    lcf = ngx_http_exchange_access_ldap_conf(cf, list);
    if (lcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_url") && n >= 2) {
        for (i = 1; i < n; i++) {
            rv = ngx_http_exchange_access_ldap_url(cf, lcf, &value[i]);
            if (rv != NGX_CONF_OK) {
                return rv;
            }
        }

        return NGX_CONF_OK;
    }

    if ((ngx_http_exchange_access_is(&value[0], "ldap_starttls")
         || ngx_http_exchange_access_is(&value[0], "ldap_verify"))
        && n == 2)
    {
        if (!ngx_http_exchange_access_is(&value[1], "on")
            && !ngx_http_exchange_access_is(&value[1], "off"))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" of \"%V\", "
                               "it must be \"on\" or \"off\"",
                               &value[1], &value[0]);
            return NGX_CONF_ERROR;
        }

        if (value[0].data[5] == 's') {
            lcf->starttls = (value[1].len == 2);

        } else {
            lcf->verify = (value[1].len == 2);
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_trusted_certificate")
        && n == 2)
    {
        lcf->trusted = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_bind_dn") && n == 2) {
        lcf->bind_dn = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_bind_password_file")
        && n == 2)
    {
        lcf->password_file = value[1];

        if (ngx_conf_full_name(cf->cycle, &lcf->password_file, 1)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_base") && n == 2) {
        lcf->base = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_group") && n >= 2) {
        if (lcf->groups == NULL) {
            lcf->groups = ngx_array_create(cf->pool, n - 1,
                                           sizeof(ngx_str_t));
            if (lcf->groups == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        for (i = 1; i < n; i++) {
            s = ngx_array_push(lcf->groups);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            *s = value[i];
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_nested") && n == 2) {
        for (e = ngx_http_exchange_access_nested; e->name.len; e++) {
            if (e->name.len == value[1].len
                && ngx_strncmp(e->name.data, value[1].data, e->name.len) == 0)
            {
                lcf->nested = e->value;
                return NGX_CONF_OK;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid ldap_nested \"%V\", it must be "
                           "\"chain\", \"walk\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_filter") && n == 2) {
        if (!ngx_exa_ldap_filter_valid(value[1].data, value[1].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid ldap_filter \"%V\": it must be one "
                               "filter in parentheses", &value[1]);
            return NGX_CONF_ERROR;
        }

        lcf->filter = value[1];
        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_user_attributes")
        && n >= 2)
    {
        lcf->attrs = ngx_array_create(cf->pool, n, sizeof(char *));
        if (lcf->attrs == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 1; i < n; i++) {
            s = ngx_array_push(lcf->attrs);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            /* the configuration parser keeps every word NUL-terminated */
            *(u_char **) s = value[i].data;
        }

        s = ngx_array_push(lcf->attrs);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *(u_char **) s = NULL;

        return NGX_CONF_OK;
    }

    if (ngx_http_exchange_access_is(&value[0], "ldap_timeout") && n == 2) {
        ms = ngx_parse_time(&value[1], 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid ldap_timeout \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        lcf->timeout = ms;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown or malformed \"%V\" in exchange_access_list",
                       &value[0]);

    return NGX_CONF_ERROR;
}


/* ldap://host[:port][/] or ldaps://host[:port][/], resolved now */

static char *
ngx_http_exchange_access_ldap_url(ngx_conf_t *cf,
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


/* after the block: defaults, checks, the password, TLS, the state file */

char *
ngx_http_exchange_access_ldap_check(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    char                                 **a;
    ngx_uint_t                             i, tls;
    ngx_str_t                             *g;
    ngx_http_exchange_access_ldap_url_t   *url;
    ngx_http_exchange_access_ldap_conf_t  *lcf;
#if (NGX_SSL)
    ngx_pool_cleanup_t                    *cln;
#endif

    lcf = list->ldap;

    if (list->refresh == 0) {
        list->refresh = 60;
    }

    if (list->source != NGX_HTTP_EXCHANGE_ACCESS_SRC_LDAP) {
        if (list->state_file.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"state_file\" of exchange_access_list "
                               "\"%V\" needs an LDAP source", &list->name);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

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
                             NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN);
    ngx_conf_init_msec_value(lcf->timeout, 10000);

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
#if (NGX_SSL)
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
    }

    if (list->state_file.len) {
        if (ngx_http_exchange_access_read_state(cf, list) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
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


/*
 * The last good list, written after each refresh that changed it, is read
 * at start: it is used when the zone holds no table yet.  A state file
 * that is missing is not an error; one that cannot be read is logged and
 * ignored.
 */

static ngx_int_t
ngx_http_exchange_access_read_state(ngx_conf_t *cf,
    ngx_http_exchange_access_list_t *list)
{
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;
    ngx_array_t      *keys;

    fd = ngx_open_file(list->state_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                       0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                               ngx_open_file_n " \"%V\" failed, "
                               "state file ignored", &list->state_file);
        }

        return NGX_OK;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 256 * 1024 * 1024)
    {
        goto failed;
    }

    buf = ngx_alloc(ngx_file_size(&fi) + 1, cf->log);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi));

    if (n != ngx_file_size(&fi)) {
        goto failed;
    }

    keys = ngx_array_create(cf->pool, 64, sizeof(ngx_exa_str_t));
    if (keys == NULL) {
        goto failed;
    }

    if (ngx_http_exchange_access_list_parse(list, &list->state_file, buf, n,
                                            cf->pool, keys, cf->log)
        != NGX_OK)
    {
        goto failed;
    }

    list->keys = keys;
    list->keys_source = NGX_HTTP_EXCHANGE_ACCESS_SRC_STATE;

    ngx_free(buf);
    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                       "state file \"%V\" cannot be read, ignored",
                       &list->state_file);

    if (buf) {
        ngx_free(buf);
    }

    ngx_close_file(fd);

    return NGX_OK;
}


/* a refresh */

void
ngx_http_exchange_access_ldap_refresh(ngx_http_exchange_access_list_t *list,
    ngx_log_t *log)
{
    ngx_pool_t                           *pool;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    pool = ngx_create_pool(16384, log);
    if (pool == NULL) {
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    ctx = ngx_pcalloc(pool, sizeof(ngx_http_exchange_access_ldap_ctx_t));
    if (ctx == NULL) {
        ngx_destroy_pool(pool);
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    ctx->list = list;
    ctx->lcf = list->ldap;
    ctx->pool = pool;
    ctx->log = log;
    ctx->start = ngx_current_msec;
    ctx->url = 0;
    ctx->addr = 0;

    ctx->keys = ngx_array_create(pool, 1024, sizeof(ngx_exa_str_t));
    if (ctx->keys == NULL) {
        ngx_destroy_pool(pool);
        ngx_http_exchange_access_list_done(list, NULL, "out of memory", log);
        return;
    }

    list->running = ctx;

    ngx_http_exchange_access_ldap_connect_url(ctx);
}


static void
ngx_http_exchange_access_ldap_connect_url(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_int_t                             rc;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;

    for ( ;; ) {
        if (ctx->url >= ctx->lcf->urls->nelts) {
            ngx_http_exchange_access_ldap_finish(ctx,
                                  ctx->error[0] ? (char *) ctx->error
                                                : "no LDAP server to try");
            return;
        }

        url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
              + ctx->url;

        if (ctx->addr < url->naddrs) {
            break;
        }

        ctx->url++;
        ctx->addr = 0;
    }

    ngx_memzero(&ctx->peer, sizeof(ngx_peer_connection_t));

    ctx->peer.sockaddr = url->addrs[ctx->addr].sockaddr;
    ctx->peer.socklen = url->addrs[ctx->addr].socklen;
    ctx->peer.name = &url->addrs[ctx->addr].name;
    ctx->peer.get = ngx_http_exchange_access_ldap_get_peer;
    ctx->peer.log = ctx->log;
    ctx->peer.log_error = NGX_ERROR_ERR;

    ctx->state = ngx_http_exchange_access_st_connect;

    rc = ngx_event_connect_peer(&ctx->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_exchange_access_ldap_next_url(ctx, "connect() failed");
        return;
    }

    c = ctx->peer.connection;
    c->data = ctx;
    c->pool = ctx->pool;
    c->read->handler = ngx_http_exchange_access_ldap_dummy;
    c->write->handler = ngx_http_exchange_access_ldap_connected;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, ctx->lcf->timeout);
        return;
    }

    ngx_http_exchange_access_ldap_connected(c->write);
}


static ngx_int_t
ngx_http_exchange_access_ldap_get_peer(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


static void
ngx_http_exchange_access_ldap_dummy(ngx_event_t *ev)
{
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    c = ev->data;
    ctx = c->data;

    if (ev->timedout) {
        ngx_http_exchange_access_ldap_next_url(ctx, "timed out");
    }
}


/*
 * Gives up on the current server with an error and tries the next address
 * or URL; the error of the last one tried is the refresh's.
 */

static void
ngx_http_exchange_access_ldap_next_url(
    ngx_http_exchange_access_ldap_ctx_t *ctx, const char *fmt, ...)
{
    u_char                               *p;
    va_list                               args;
    ngx_http_exchange_access_ldap_url_t  *url;

    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

    p = ngx_snprintf(ctx->error, sizeof(ctx->error) - 1, "%V: ", &url->url);

    va_start(args, fmt);
    p = ngx_vslprintf(p, ctx->error + sizeof(ctx->error) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                   "exchange access ldap: %s", ctx->error);

    ngx_http_exchange_access_ldap_close(ctx);

    /* the next server starts from the beginning */

    ctx->in_flight = 0;
    ctx->next_group = 0;
    ctx->nmembers = 0;
    ctx->group_values = 0;
    ctx->pages = 0;
    ctx->chain_filter.len = 0;
    ctx->keys->nelts = 0;
    ctx->skipped = 0;

    ctx->addr++;

    ngx_http_exchange_access_ldap_connect_url(ctx);
}


static void
ngx_http_exchange_access_ldap_connected(ngx_event_t *wev)
{
    int                                   err;
    socklen_t                             len;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;
    ngx_http_exchange_access_ldap_url_t  *url;

    c = wev->data;
    ctx = c->data;

    if (wev->timedout) {
        ngx_http_exchange_access_ldap_next_url(ctx, "connect timed out");
        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_exchange_access_ldap_next_url(ctx, "connect() failed (%d)",
                                               err);
        return;
    }

    wev->handler = ngx_http_exchange_access_ldap_dummy;

    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

#if (NGX_SSL)
    if (url->ldaps) {
        ngx_http_exchange_access_ldap_tls(ctx);
        return;
    }
#endif

    if (ngx_http_exchange_access_ldap_start(ctx) != NGX_OK) {
        return;
    }

    if (ctx->lcf->starttls) {
        ctx->state = ngx_http_exchange_access_st_starttls;

        err = ldap_extended_operation(ctx->ld, LDAP_EXOP_START_TLS, NULL,
                                      NULL, NULL, &ctx->msgid);
        if (err != LDAP_SUCCESS) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                              "StartTLS request failed (%d: %s)",
                              err, ldap_err2string(err));
            return;
        }

        ngx_add_timer(c->read, ctx->lcf->timeout);

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            ngx_http_exchange_access_ldap_next_url(ctx, "read event failed");
        }

        return;
    }

    ngx_http_exchange_access_ldap_bind(ctx);
}


/* libldap on top of the nginx connection */

static ngx_int_t
ngx_http_exchange_access_ldap_start(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    int                                   rc, version, off;
    Sockbuf                              *sb;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;

    c = ctx->peer.connection;
    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

    rc = ldap_init_fd(c->fd, LDAP_PROTO_EXT, (char *) url->url.data,
                      &ctx->ld);
    if (rc != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_next_url(ctx,
                                       "ldap_init_fd() failed (%d: %s)",
                                       rc, ldap_err2string(rc));
        return NGX_ERROR;
    }

    version = LDAP_VERSION3;
    off = 0;

    if (ldap_set_option(ctx->ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        != LDAP_OPT_SUCCESS
        || ldap_set_option(ctx->ld, LDAP_OPT_REFERRALS, &off)
           != LDAP_OPT_SUCCESS
        || ldap_get_option(ctx->ld, LDAP_OPT_SOCKBUF, (void *) &sb)
           != LDAP_OPT_SUCCESS
        || ber_sockbuf_add_io(sb, &ngx_http_exchange_access_sbio,
                              LBER_SBIOD_LEVEL_PROVIDER, c)
           != 0)
    {
        ngx_http_exchange_access_ldap_next_url(ctx,
                                            "setting up libldap failed");
        return NGX_ERROR;
    }

    c->read->handler = ngx_http_exchange_access_ldap_read;

    return NGX_OK;
}


#if (NGX_SSL)

static void
ngx_http_exchange_access_ldap_tls(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_int_t                             rc;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_url_t  *url;

    c = ctx->peer.connection;
    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

    ctx->state = ngx_http_exchange_access_st_tls;

    if (ngx_ssl_create_connection(ctx->lcf->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_exchange_access_ldap_next_url(ctx, "TLS setup failed");
        return;
    }

    /* SNI for names, not for addresses */

    if (url->host.len && ngx_inet_addr(url->host.data, url->host.len)
                         == INADDR_NONE
        && url->host.data[0] != '[')
    {
        u_char  name[256];

        ngx_cpystrn(name, url->host.data,
                    ngx_min(url->host.len + 1, sizeof(name)));

        if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
            == 0)
        {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                              "SSL_set_tlsext_host_name() "
                                              "failed");
            return;
        }
    }

    c->log->action = "TLS handshake with the LDAP server";

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        if (!c->write->timer_set) {
            ngx_add_timer(c->write, ctx->lcf->timeout);
        }

        c->ssl->handler = ngx_http_exchange_access_ldap_tls_done;
        return;
    }

    ngx_http_exchange_access_ldap_tls_done(c);
}


static void
ngx_http_exchange_access_ldap_tls_done(ngx_connection_t *c)
{
    long                                  rc;
    X509                                 *cert;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;
    ngx_http_exchange_access_ldap_url_t  *url;
    u_char                                name[256];

    ctx = c->data;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->log->action = NULL;

    if (!c->ssl->handshaked) {
        ngx_http_exchange_access_ldap_next_url(ctx, "TLS handshake failed");
        return;
    }

    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

    if (ctx->lcf->verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                   "certificate verify error: (%l:%s)",
                                   rc, X509_verify_cert_error_string(rc));
            return;
        }

        cert = SSL_get_peer_certificate(c->ssl->connection);

        if (cert == NULL) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                                "no server certificate");
            return;
        }

        ngx_cpystrn(name, url->host.data,
                    ngx_min(url->host.len + 1, sizeof(name)));

        if (name[0] == '[') {
            name[ngx_strlen(name) - 1] = '\0';
            rc = X509_check_ip_asc(cert, (char *) name + 1, 0);

        } else if (ngx_inet_addr(name, ngx_strlen(name)) != INADDR_NONE) {
            rc = X509_check_ip_asc(cert, (char *) name, 0);

        } else {
            rc = X509_check_host(cert, (char *) name, ngx_strlen(name), 0,
                                 NULL);
        }

        X509_free(cert);

        if (rc != 1) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                   "certificate does not match \"%s\"", name);
            return;
        }
    }

    c->read->handler = ngx_http_exchange_access_ldap_read;
    c->write->handler = ngx_http_exchange_access_ldap_dummy;

    /*
     * LDAPS: libldap starts now, over TLS; StartTLS: it started before
     * the handshake and goes on over TLS with the same handle
     */

    if (ctx->ld == NULL) {
        if (ngx_http_exchange_access_ldap_start(ctx) != NGX_OK) {
            return;
        }
    }

    ngx_http_exchange_access_ldap_bind(ctx);
}

#endif


static void
ngx_http_exchange_access_ldap_bind(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    int                                    rc;
    struct berval                          cred;
    ngx_connection_t                      *c;
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    c = ctx->peer.connection;
    lcf = ctx->lcf;

    ctx->state = ngx_http_exchange_access_st_bind;

    cred.bv_val = (char *) lcf->password.data;
    cred.bv_len = lcf->password.len;

    rc = ldap_sasl_bind(ctx->ld,
                        lcf->bind_dn.len ? (char *) lcf->bind_dn.data : "",
                        LDAP_SASL_SIMPLE, &cred, NULL, NULL, &ctx->msgid);

    if (rc != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_next_url(ctx,
                                       "bind request failed (%d: %s)",
                                       rc, ldap_err2string(rc));
        return;
    }

    ngx_add_timer(c->read, lcf->timeout);

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_exchange_access_ldap_next_url(ctx, "read event failed");
    }
}


/* the connection is readable: take every complete message libldap has */

static void
ngx_http_exchange_access_ldap_read(ngx_event_t *rev)
{
    int                                   rc;
    LDAPMessage                          *msg;
    struct timeval                        zero;
    ngx_connection_t                     *c;
    ngx_http_exchange_access_ldap_ctx_t  *ctx;

    c = rev->data;
    ctx = c->data;

    if (rev->timedout) {
        ngx_http_exchange_access_ldap_next_url(ctx, "timed out (state %ui)",
                                               ctx->state);
        return;
    }

    for ( ;; ) {
        zero.tv_sec = 0;
        zero.tv_usec = 0;
        msg = NULL;

        rc = ldap_result(ctx->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);

        if (rc == 0) {
            break;
        }

        if (rc == -1) {
            ldap_get_option(ctx->ld, LDAP_OPT_RESULT_CODE, &rc);
            ngx_http_exchange_access_ldap_next_url(ctx,
                                      "connection lost (%d: %s)",
                                      rc, ldap_err2string(rc));
            return;
        }

        /* progress: the server answers; the lease lasts while it does */

        if (rev->timer_set) {
            ngx_del_timer(rev);
        }

        ngx_add_timer(rev, ctx->lcf->timeout);

        if (ngx_time() != ctx->extended) {
            ctx->extended = ngx_time();

            ngx_shmtx_lock(&ctx->list->shpool->mutex);
            ctx->list->sh->lease_until = ctx->extended
                                       + 2 * (ctx->lcf->timeout / 1000 + 1);
            ngx_shmtx_unlock(&ctx->list->shpool->mutex);
        }

        rc = ngx_http_exchange_access_ldap_message(ctx, msg);

        ldap_msgfree(msg);

        if (rc != NGX_OK) {
            /* the context may be gone: finished, or on another server */
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_exchange_access_ldap_next_url(ctx, "read event failed");
    }
}


/*
 * One message.  Returns NGX_OK to go on reading, NGX_DONE when the
 * refresh moved on (finished, failed, or went to another server).
 */

static ngx_int_t
ngx_http_exchange_access_ldap_message(ngx_http_exchange_access_ldap_ctx_t *ctx,
    LDAPMessage *msg)
{
    int                                   type, err;
    char                                 *text;
    ngx_http_exchange_access_ldap_group_t *g;

    type = ldap_msgtype(msg);

    switch (ctx->state) {

#if (NGX_SSL)
    case ngx_http_exchange_access_st_starttls:

        if (type != LDAP_RES_EXTENDED) {
            return NGX_OK;
        }

        err = LDAP_OTHER;
        text = NULL;
        ldap_parse_result(ctx->ld, msg, &err, NULL, &text, NULL, NULL, 0);

        if (err != LDAP_SUCCESS) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                     "StartTLS refused (%d: %s%s%s)", err,
                                     ldap_err2string(err),
                                     text && *text ? ", " : "",
                                     text ? text : "");
            ldap_memfree(text);
            return NGX_DONE;
        }

        ldap_memfree(text);

        if (ctx->peer.connection->read->timer_set) {
            ngx_del_timer(ctx->peer.connection->read);
        }

        ngx_http_exchange_access_ldap_tls(ctx);
        return NGX_DONE;
#endif

    case ngx_http_exchange_access_st_bind:

        if (type != LDAP_RES_BIND) {
            return NGX_OK;
        }

        err = LDAP_OTHER;
        text = NULL;
        ldap_parse_result(ctx->ld, msg, &err, NULL, &text, NULL, NULL, 0);

        if (err != LDAP_SUCCESS) {
            ngx_http_exchange_access_ldap_next_url(ctx,
                                     "bind as \"%V\" failed (%d: %s%s%s)",
                                     &ctx->lcf->bind_dn, err,
                                     ldap_err2string(err),
                                     text && *text ? ", " : "",
                                     text ? text : "");
            ldap_memfree(text);
            return NGX_DONE;
        }

        ldap_memfree(text);

        return ngx_http_exchange_access_ldap_read_groups(ctx);

    case ngx_http_exchange_access_st_groups:

        if (type == LDAP_RES_SEARCH_ENTRY) {
            return ngx_http_exchange_access_ldap_group_entry(ctx, msg);
        }

        if (type != LDAP_RES_SEARCH_RESULT) {
            return NGX_OK;
        }

        ctx->in_flight--;

        err = LDAP_OTHER;
        ldap_parse_result(ctx->ld, msg, &err, NULL, NULL, NULL, NULL, 0);

        if (err != LDAP_SUCCESS) {
            g = ctx->groups.elts;

            for (type = 0; type < (int) ctx->groups.nelts; type++) {
                if (g[type].msgid == ldap_msgid(msg)) {
                    break;
                }
            }

            if (type < (int) ctx->groups.nelts && !g[type].configured
                && err == LDAP_NO_SUCH_OBJECT)
            {
                /* a nested group that went away: nothing to add */
                ngx_log_error(NGX_LOG_INFO, ctx->log, 0,
                              "exchange_access_list \"%V\": nested group "
                              "\"%V\" not found", &ctx->list->name,
                              &g[type].dn);

            } else {
                ngx_http_exchange_access_ldap_error(ctx,
                                  "reading group \"%s\" failed (%d: %s)",
                                  type < (int) ctx->groups.nelts
                                  ? (char *) g[type].dn.data : "?",
                                  err, ldap_err2string(err));
                return NGX_DONE;
            }
        }

        return ngx_http_exchange_access_ldap_read_groups(ctx);

    case ngx_http_exchange_access_st_all_groups:

        if (type == LDAP_RES_SEARCH_ENTRY) {
            char       *dn;
            ngx_uint_t  added;

            dn = ldap_get_dn(ctx->ld, msg);
            if (dn == NULL) {
                return NGX_OK;
            }

            err = ngx_http_exchange_access_ldap_remember(&ctx->all_groups,
                                                         ctx->pool, dn,
                                                         ngx_strlen(dn),
                                                         &added);
            ldap_memfree(dn);

            if (err != NGX_OK) {
                ngx_http_exchange_access_ldap_error(ctx, "out of memory");
                return NGX_DONE;
            }

            return NGX_OK;
        }

        if (type != LDAP_RES_SEARCH_RESULT) {
            return NGX_OK;
        }

        err = ngx_http_exchange_access_ldap_result(ctx, msg, 1);

        if (err == NGX_AGAIN) {
            return NGX_OK;
        }

        if (err != NGX_OK) {
            return NGX_DONE;
        }

        /* every group DN is known: walk from the configured groups */

        return ngx_http_exchange_access_ldap_read_groups(ctx);

    case ngx_http_exchange_access_st_users:

        if (type == LDAP_RES_SEARCH_ENTRY) {
            return ngx_http_exchange_access_ldap_user_entry(ctx, msg);
        }

        if (type != LDAP_RES_SEARCH_RESULT) {
            return NGX_OK;
        }

        err = ngx_http_exchange_access_ldap_result(ctx, msg, 1);

        if (err == NGX_AGAIN) {
            return NGX_OK;
        }

        if (err != NGX_OK) {
            return NGX_DONE;
        }

        /* an in-chain search that finds nobody in groups that have members */

        if (ctx->lcf->nested == NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN
            && ctx->keys->nelts == 0 && ctx->group_values > 0)
        {
            ngx_http_exchange_access_ldap_error(ctx,
                         "the in-chain search ("
                         NGX_HTTP_EXCHANGE_ACCESS_IN_CHAIN
                         ") found nobody although the groups have %ui "
                         "members: the server may not support it, use "
                         "\"ldap_nested walk\"", ctx->group_values);
            return NGX_DONE;
        }

        ngx_http_exchange_access_ldap_finish(ctx, NULL);
        return NGX_DONE;

    default:
        return NGX_OK;
    }
}


/*
 * The result of a search.  Returns NGX_OK (done), NGX_AGAIN (the next
 * page was asked for) or NGX_ERROR (the refresh failed).
 */

static ngx_int_t
ngx_http_exchange_access_ldap_result(ngx_http_exchange_access_ldap_ctx_t *ctx,
    LDAPMessage *msg, ngx_uint_t paged)
{
    int            err, rc;
    char          *text;
    ber_int_t      count;
    LDAPControl  **ctrls, *ctrl;
    struct berval  cookie;

    err = LDAP_OTHER;
    text = NULL;
    ctrls = NULL;

    rc = ldap_parse_result(ctx->ld, msg, &err, NULL, &text, NULL, &ctrls, 0);

    if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_error(ctx, "search failed (%d: %s%s%s)",
                                     rc != LDAP_SUCCESS ? rc : err,
                                     ldap_err2string(rc != LDAP_SUCCESS
                                                     ? rc : err),
                                     text && *text ? ", " : "",
                                     text ? text : "");
        ldap_memfree(text);
        ldap_controls_free(ctrls);
        return NGX_ERROR;
    }

    ldap_memfree(text);

    if (!paged) {
        ldap_controls_free(ctrls);
        return NGX_OK;
    }

    if (ctx->cookie) {
        ber_bvfree(ctx->cookie);
        ctx->cookie = NULL;
    }

    ctrl = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);

    if (ctrl == NULL) {
        /* the server did not page: everything came at once */
        ldap_controls_free(ctrls);
        return NGX_OK;
    }

    cookie.bv_val = NULL;
    cookie.bv_len = 0;

    rc = ldap_parse_pageresponse_control(ctx->ld, ctrl, &count, &cookie);

    ldap_controls_free(ctrls);

    if (rc != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_error(ctx,
                                         "bad paged results control (%d: %s)",
                                         rc, ldap_err2string(rc));
        return NGX_ERROR;
    }

    if (cookie.bv_len == 0) {
        ber_memfree(cookie.bv_val);
        return NGX_OK;
    }

    if (++ctx->pages > NGX_HTTP_EXCHANGE_ACCESS_PAGES_MAX) {
        ber_memfree(cookie.bv_val);
        ngx_http_exchange_access_ldap_error(ctx,
                                         "more than %ui pages of results",
                                         NGX_HTTP_EXCHANGE_ACCESS_PAGES_MAX);
        return NGX_ERROR;
    }

    ctx->cookie = ber_bvdup(&cookie);
    ber_memfree(cookie.bv_val);

    if (ctx->cookie == NULL) {
        ngx_http_exchange_access_ldap_error(ctx, "out of memory");
        return NGX_ERROR;
    }

    if (ctx->state == ngx_http_exchange_access_st_users) {
        rc = ngx_http_exchange_access_ldap_search_users(ctx);

    } else {
        rc = ngx_http_exchange_access_ldap_search_groups(ctx);
    }

    return rc == NGX_OK ? NGX_AGAIN : NGX_ERROR;
}


/*
 * Reads the groups: the configured ones (does each exist, has it members)
 * and, walking, every nested one, a window of base searches at a time.
 * When all are read, searches the users.
 */

static ngx_int_t
ngx_http_exchange_access_ldap_read_groups(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    int                                     rc;
    char                                   *attrs[3], range[64];
    ngx_str_t                              *cg;
    ngx_uint_t                              i, added;
    ngx_http_exchange_access_ldap_conf_t   *lcf;
    ngx_http_exchange_access_ldap_group_t  *g;

    lcf = ctx->lcf;

    if (ctx->state == ngx_http_exchange_access_st_bind) {

        if (ngx_array_init(&ctx->groups, ctx->pool, 16,
                           sizeof(ngx_http_exchange_access_ldap_group_t))
            != NGX_OK)
        {
            ngx_http_exchange_access_ldap_error(ctx, "out of memory");
            return NGX_DONE;
        }

        ngx_rbtree_init(&ctx->seen, &ctx->seen_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_rbtree_init(&ctx->members, &ctx->members_sentinel,
                        ngx_str_rbtree_insert_value);
        ngx_rbtree_init(&ctx->all_groups, &ctx->all_groups_sentinel,
                        ngx_str_rbtree_insert_value);

        cg = lcf->groups->elts;

        for (i = 0; i < lcf->groups->nelts; i++) {
            g = ngx_array_push(&ctx->groups);
            if (g == NULL) {
                ngx_http_exchange_access_ldap_error(ctx, "out of memory");
                return NGX_DONE;
            }

            ngx_memzero(g, sizeof(ngx_http_exchange_access_ldap_group_t));
            g->dn = cg[i];
            g->configured = 1;
            g->msgid = -1;

            if (ngx_http_exchange_access_ldap_remember(&ctx->seen, ctx->pool,
                                                   (char *) cg[i].data,
                                                   cg[i].len, &added)
                != NGX_OK)
            {
                ngx_http_exchange_access_ldap_error(ctx, "out of memory");
                return NGX_DONE;
            }
        }

        if (lcf->nested != NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN) {

            /* first learn which entries are groups */

            ctx->state = ngx_http_exchange_access_st_all_groups;
            ctx->pages = 0;

            if (ngx_http_exchange_access_ldap_search_groups(ctx) != NGX_OK) {
                return NGX_DONE;
            }

            return NGX_OK;
        }
    }

    ctx->state = ngx_http_exchange_access_st_groups;

    g = ctx->groups.elts;

    while (ctx->in_flight < NGX_HTTP_EXCHANGE_ACCESS_WINDOW
           && ctx->next_group < ctx->groups.nelts)
    {
        i = ctx->next_group;

        if (g[i].range) {
            ngx_sprintf((u_char *) range, "member;range=%ui-*%Z", g[i].range);

        } else {
            ngx_sprintf((u_char *) range, "member%Z");
        }

        attrs[0] = range;
        attrs[1] = "primaryGroupToken";
        attrs[2] = NULL;

        rc = ldap_search_ext(ctx->ld, (char *) g[i].dn.data,
                             LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0,
                             NULL, NULL, NULL, 0, &g[i].msgid);

        if (rc != LDAP_SUCCESS) {
            ngx_http_exchange_access_ldap_error(ctx,
                                             "search request failed (%d: %s)",
                                             rc, ldap_err2string(rc));
            return NGX_DONE;
        }

        ctx->next_group++;
        ctx->in_flight++;
    }

    if (ctx->in_flight) {
        return NGX_OK;
    }

    /* every group read: the users */

    ctx->state = ngx_http_exchange_access_st_users;
    ctx->pages = 0;

    if (lcf->nested != NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN
        && ctx->nmembers == 0)
    {
        /* the groups are really empty: an empty list is what was asked */
        ngx_http_exchange_access_ldap_finish(ctx, NULL);
        return NGX_DONE;
    }

    if (ngx_http_exchange_access_ldap_search_users(ctx) != NGX_OK) {
        return NGX_DONE;
    }

    return NGX_OK;
}


/* a group entry: its members, a further range, its primary group token */

static ngx_int_t
ngx_http_exchange_access_ldap_group_entry(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *entry)
{
    int                                     rc;
    char                                   *a, *dn;
    u_char                                 *p;
    BerElement                             *ber;
    ngx_uint_t                              i, k, added, depth, more;
    struct berval                         **vals;
    ngx_exa_range_t                         range;
    ngx_http_exchange_access_ldap_group_t  *g, *ng;
    u_char                                  buf[1024];

    g = ctx->groups.elts;

    for (k = 0; k < ctx->groups.nelts; k++) {
        if (g[k].msgid == ldap_msgid(entry)) {
            break;
        }
    }

    if (k == ctx->groups.nelts) {
        return NGX_OK;
    }

    depth = g[k].depth;
    more = 0;
    ber = NULL;

    for (a = ldap_first_attribute(ctx->ld, entry, &ber);
         a != NULL;
         a = ldap_next_attribute(ctx->ld, entry, ber))
    {
        if (ngx_strcasecmp((u_char *) a, (u_char *) "primaryGroupToken")
            == 0)
        {
            vals = ldap_get_values_len(ctx->ld, entry, a);

            if (vals && vals[0] && vals[0]->bv_len < 16
                && ctx->lcf->nested == NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN)
            {
                /* members by primary group are not in member (AD) */

                p = ngx_pnalloc(ctx->pool, ctx->chain_filter.len + 32);
                if (p == NULL) {
                    ldap_value_free_len(vals);
                    ldap_memfree(a);
                    ber_free(ber, 0);
                    ngx_http_exchange_access_ldap_error(ctx, "out of memory");
                    return NGX_DONE;
                }

                ctx->chain_filter.len = ngx_sprintf(p, "%V(primaryGroupID=%*s)",
                                              &ctx->chain_filter,
                                              (size_t) vals[0]->bv_len,
                                              vals[0]->bv_val)
                                        - p;
                ctx->chain_filter.data = p;
            }

            ldap_value_free_len(vals);
            ldap_memfree(a);
            continue;
        }

        rc = ngx_exa_ldap_range(a, "member", &range);

        if (rc < 0) {
            ldap_memfree(a);
            continue;
        }

        if (rc == 1 && !range.last) {
            more = range.end + 1;
        }

        vals = ldap_get_values_len(ctx->ld, entry, a);
        ldap_memfree(a);

        for (i = 0; vals && vals[i]; i++) {

            ctx->group_values++;

            if (ctx->lcf->nested == NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN) {
                continue;
            }

            dn = vals[i]->bv_val;

            if (vals[i]->bv_len >= sizeof(buf)) {
                continue;
            }

            if (ngx_http_exchange_access_ldap_known(&ctx->all_groups, dn,
                                                    vals[i]->bv_len, buf)
                == NGX_OK)
            {
                /* a nested group */

                if (ctx->lcf->nested != NGX_HTTP_EXCHANGE_ACCESS_NESTED_WALK
                    || depth + 1 >= NGX_HTTP_EXCHANGE_ACCESS_DEPTH_MAX)
                {
                    continue;
                }

                if (ngx_http_exchange_access_ldap_remember(&ctx->seen,
                                                    ctx->pool, dn,
                                                    vals[i]->bv_len, &added)
                    != NGX_OK)
                {
                    goto nomem;
                }

                if (!added) {
                    continue;            /* seen: a cycle or a diamond */
                }

                ng = ngx_array_push(&ctx->groups);
                if (ng == NULL) {
                    goto nomem;
                }

                g = ctx->groups.elts;

                ngx_memzero(ng, sizeof(ngx_http_exchange_access_ldap_group_t));
                ng->msgid = -1;

                ng->dn.data = ngx_pnalloc(ctx->pool, vals[i]->bv_len + 1);
                if (ng->dn.data == NULL) {
                    goto nomem;
                }

                ngx_memcpy(ng->dn.data, dn, vals[i]->bv_len);
                ng->dn.data[vals[i]->bv_len] = '\0';
                ng->dn.len = vals[i]->bv_len;
                ng->depth = depth + 1;

                continue;
            }

            if (ngx_http_exchange_access_ldap_remember(&ctx->members,
                                                       ctx->pool, dn,
                                                       vals[i]->bv_len,
                                                       &added)
                != NGX_OK)
            {
                goto nomem;
            }

            ctx->nmembers += added;
        }

        ldap_value_free_len(vals);
    }

    ber_free(ber, 0);

    if (more) {

        /* Active Directory sent one range of member: ask for the next */

        ng = ngx_array_push(&ctx->groups);
        if (ng == NULL) {
            ngx_http_exchange_access_ldap_error(ctx, "out of memory");
            return NGX_DONE;
        }

        g = ctx->groups.elts;
        *ng = g[k];
        ng->range = more;
        ng->msgid = -1;
    }

    return NGX_OK;

nomem:

    ldap_value_free_len(vals);
    ber_free(ber, 0);
    ngx_http_exchange_access_ldap_error(ctx, "out of memory");

    return NGX_DONE;
}


/* a paged search for the DNs of all groups (walk and off) */

static ngx_int_t
ngx_http_exchange_access_ldap_search_groups(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    static char  *attrs[] = { "1.1", NULL };

    return ngx_http_exchange_access_ldap_paged(ctx,
                      "(|(objectClass=group)(objectClass=groupOfNames)"
                      "(objectClass=groupOfUniqueNames))", attrs);
}


/*
 * The users: with "chain", the server finds the members of the groups at
 * any depth; otherwise every entry is read and the members found while
 * reading the groups are kept.
 */

static ngx_int_t
ngx_http_exchange_access_ldap_search_users(
    ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    u_char                                *p, *esc;
    size_t                                 len;
    ngx_str_t                             *g;
    ngx_uint_t                             i;
    ngx_http_exchange_access_ldap_conf_t  *lcf;

    lcf = ctx->lcf;

    if (lcf->nested != NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN) {
        len = sizeof("(&(objectClass=*))") + lcf->filter.len;

        p = ngx_pnalloc(ctx->pool, len);
        if (p == NULL) {
            ngx_http_exchange_access_ldap_error(ctx, "out of memory");
            return NGX_ERROR;
        }

        ngx_sprintf(p, "(&(objectClass=*)%V)%Z", &lcf->filter);

        return ngx_http_exchange_access_ldap_paged(ctx, (char *) p,
                                                   lcf->attrs->elts);
    }

    g = lcf->groups->elts;
    len = sizeof("(&(objectCategory=person)(objectClass=user)(|))")
          + lcf->filter.len + ctx->chain_filter.len;

    for (i = 0; i < lcf->groups->nelts; i++) {
        len += sizeof("(memberOf:" NGX_HTTP_EXCHANGE_ACCESS_IN_CHAIN ":=)")
               + 3 * g[i].len;
    }

    p = ngx_pnalloc(ctx->pool, len);
    esc = ngx_pnalloc(ctx->pool, len);
    if (p == NULL || esc == NULL) {
        ngx_http_exchange_access_ldap_error(ctx, "out of memory");
        return NGX_ERROR;
    }

    len = ngx_sprintf(p, "(&(objectCategory=person)(objectClass=user)(|")
          - p;

    for (i = 0; i < lcf->groups->nelts; i++) {
        len = ngx_sprintf(p + len,
                          "(memberOf:" NGX_HTTP_EXCHANGE_ACCESS_IN_CHAIN
                          ":=%*s)",
                          ngx_exa_ldap_escape(g[i].data, g[i].len, esc), esc)
              - p;
    }

    ngx_sprintf(p + len, "%V)%V)%Z", &ctx->chain_filter, &lcf->filter);

    return ngx_http_exchange_access_ldap_paged(ctx, (char *) p,
                                               lcf->attrs->elts);
}


static ngx_int_t
ngx_http_exchange_access_ldap_paged(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *filter, char **attrs)
{
    int           rc;
    LDAPControl  *ctrl, *ctrls[2];

    ctrl = NULL;

    rc = ldap_create_page_control(ctx->ld,
                                  NGX_HTTP_EXCHANGE_ACCESS_PAGE_SIZE,
                                  ctx->cookie, 0, &ctrl);
    if (rc != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_error(ctx,
                                 "ldap_create_page_control() failed (%d: %s)",
                                 rc, ldap_err2string(rc));
        return NGX_ERROR;
    }

    ctrls[0] = ctrl;
    ctrls[1] = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->log, 0,
                   "exchange access ldap: search \"%s\"", filter);

    rc = ldap_search_ext(ctx->ld, (char *) ctx->lcf->base.data,
                         LDAP_SCOPE_SUBTREE, filter, attrs, 0, ctrls, NULL,
                         NULL, 0, &ctx->msgid);

    ldap_control_free(ctrl);

    if (rc != LDAP_SUCCESS) {
        ngx_http_exchange_access_ldap_error(ctx,
                                         "search request failed (%d: %s)",
                                         rc, ldap_err2string(rc));
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a user entry: every value of the configured attributes is a key */

static ngx_int_t
ngx_http_exchange_access_ldap_user_entry(
    ngx_http_exchange_access_ldap_ctx_t *ctx, LDAPMessage *entry)
{
    int              rc;
    char            *dn, **attr;
    size_t           klen;
    u_char          *k;
    ngx_uint_t       i;
    ngx_exa_str_t   *key;
    struct berval  **vals;
    u_char           buf[1024], kbuf[NGX_EXA_KEY_MAX];

    if (ctx->lcf->nested != NGX_HTTP_EXCHANGE_ACCESS_NESTED_CHAIN) {
        dn = ldap_get_dn(ctx->ld, entry);
        if (dn == NULL) {
            return NGX_OK;
        }

        rc = (ngx_strlen(dn) < sizeof(buf))
             ? ngx_http_exchange_access_ldap_known(&ctx->members, dn,
                                                   ngx_strlen(dn), buf)
             : NGX_DECLINED;

        ldap_memfree(dn);

        if (rc != NGX_OK) {
            return NGX_OK;
        }
    }

    for (attr = ctx->lcf->attrs->elts; *attr; attr++) {
        vals = ldap_get_values_len(ctx->ld, entry, *attr);

        for (i = 0; vals && vals[i]; i++) {
            rc = ngx_exa_name_key(NULL, NULL, 0,
                                  (u_char *) vals[i]->bv_val,
                                  vals[i]->bv_len, kbuf, &klen);

            if (rc != NGX_EXA_NAME_OK) {
                ctx->skipped++;
                continue;
            }

            k = ngx_pnalloc(ctx->pool, klen);
            key = ngx_array_push(ctx->keys);

            if (k == NULL || key == NULL) {
                ldap_value_free_len(vals);
                ngx_http_exchange_access_ldap_error(ctx, "out of memory");
                return NGX_DONE;
            }

            ngx_memcpy(k, kbuf, klen);
            key->data = k;
            key->len = klen;
        }

        ldap_value_free_len(vals);
    }

    return NGX_OK;
}


/* sets of DNs, normalised */

static ngx_int_t
ngx_http_exchange_access_ldap_remember(ngx_rbtree_t *tree, ngx_pool_t *pool,
    const char *dn, size_t len, ngx_uint_t *added)
{
    u_char          *p;
    ngx_str_t        s;
    ngx_str_node_t  *node;

    *added = 0;

    p = ngx_pnalloc(pool, len ? len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s.len = ngx_exa_ldap_dn_norm((u_char *) dn, len, p);
    s.data = p;

    if (ngx_str_rbtree_lookup(tree, &s, ngx_crc32_short(s.data, s.len))) {
        return NGX_OK;
    }

    node = ngx_palloc(pool, sizeof(ngx_str_node_t));
    if (node == NULL) {
        return NGX_ERROR;
    }

    node->node.key = ngx_crc32_short(s.data, s.len);
    node->str = s;

    ngx_rbtree_insert(tree, &node->node);

    *added = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_ldap_known(ngx_rbtree_t *tree, const char *dn,
    size_t len, u_char *buf)
{
    ngx_str_t  s;

    s.len = ngx_exa_ldap_dn_norm((u_char *) dn, len, buf);
    s.data = buf;

    return ngx_str_rbtree_lookup(tree, &s, ngx_crc32_short(s.data, s.len))
           ? NGX_OK : NGX_DECLINED;
}


/* the end of a refresh, good or bad */

static void
ngx_http_exchange_access_ldap_error(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *fmt, ...)
{
    u_char                               *p;
    va_list                               args;
    ngx_http_exchange_access_ldap_url_t  *url;

    url = (ngx_http_exchange_access_ldap_url_t *) ctx->lcf->urls->elts
          + ctx->url;

    p = ngx_snprintf(ctx->error, sizeof(ctx->error) - 1, "%V: ", &url->url);

    va_start(args, fmt);
    p = ngx_vslprintf(p, ctx->error + sizeof(ctx->error) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    /* the server answered, but not as needed: the next would do the same */

    ngx_http_exchange_access_ldap_finish(ctx, (char *) ctx->error);
}


static void
ngx_http_exchange_access_ldap_finish(ngx_http_exchange_access_ldap_ctx_t *ctx,
    const char *error)
{
    ngx_log_t                        *log;
    ngx_pool_t                       *pool;
    ngx_array_t                      *keys;
    ngx_http_exchange_access_list_t  *list;

    list = ctx->list;
    log = ctx->log;
    pool = ctx->pool;

    if (error == NULL && ctx->keys->nelts == 0 && ctx->group_values > 0) {

        /* never replace a list by an empty one when the groups have members */

        ngx_snprintf(ctx->error, sizeof(ctx->error) - 1,
                     "the groups have %ui members but no name was found: "
                     "check ldap_nested, ldap_filter and "
                     "ldap_user_attributes%Z", ctx->group_values);
        error = (char *) ctx->error;
    }

    keys = error ? NULL : ctx->keys;

    if (keys && ctx->skipped) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "exchange_access_list \"%V\": %ui attribute values "
                      "are not valid names and were skipped",
                      &list->name, ctx->skipped);
    }

    ngx_http_exchange_access_ldap_close(ctx);

    list->running = NULL;

    ngx_http_exchange_access_list_done(list, keys, error, log);

    ngx_destroy_pool(pool);
}


static void
ngx_http_exchange_access_ldap_close(ngx_http_exchange_access_ldap_ctx_t *ctx)
{
    ngx_connection_t  *c;

    if (ctx->cookie) {
        ber_bvfree(ctx->cookie);
        ctx->cookie = NULL;
    }

    if (ctx->ld) {
        ldap_unbind_ext(ctx->ld, NULL, NULL);
        ctx->ld = NULL;
    }

    c = ctx->peer.connection;

    if (c) {
#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif
        /* the pool is the refresh's, not the connection's */
        c->pool = NULL;
        ngx_close_connection(c);
        ctx->peer.connection = NULL;
    }

}


/* the Sockbuf I/O layer: libldap reads and writes the nginx connection */

static int
ngx_http_exchange_access_sb_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}


static int
ngx_http_exchange_access_sb_remove(Sockbuf_IO_Desc *sbiod)
{
    return 0;
}


static int
ngx_http_exchange_access_sb_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
#if (NGX_SSL)
    ngx_connection_t  *c = sbiod->sbiod_pvt;

    if (opt == LBER_SB_OPT_DATA_READY) {
        return c->ssl && SSL_has_pending(c->ssl->connection);
    }
#endif

    return 0;
}


/* nginx's NGX_AGAIN and NGX_ERROR, as liblber expects them: -1 and errno */

static ber_slen_t
ngx_http_exchange_access_sb_result(ssize_t n)
{
    if (n == NGX_AGAIN) {
        errno = EWOULDBLOCK;
        return -1;
    }

    if (n == NGX_ERROR) {
        errno = ECONNRESET;
        return -1;
    }

    return n;
}


static ber_slen_t
ngx_http_exchange_access_sb_read(Sockbuf_IO_Desc *sbiod, void *buf,
    ber_len_t len)
{
    ngx_connection_t  *c = sbiod->sbiod_pvt;

    return ngx_http_exchange_access_sb_result(c->recv(c, buf, len));
}


static ber_slen_t
ngx_http_exchange_access_sb_write(Sockbuf_IO_Desc *sbiod, void *buf,
    ber_len_t len)
{
    ngx_connection_t  *c = sbiod->sbiod_pvt;

    return ngx_http_exchange_access_sb_result(c->send(c, buf, len));
}


static int
ngx_http_exchange_access_sb_close(Sockbuf_IO_Desc *sbiod)
{
    /* nginx closes the connection */
    return 0;
}
