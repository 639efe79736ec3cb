
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ldap.h"


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
    ctx->lcf = list->source_conf;
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
        || ngx_http_exchange_access_ldap_io(ctx->ld, c) != 0)
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

    if (ctx->state == ngx_http_exchange_access_st_tls) {
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
