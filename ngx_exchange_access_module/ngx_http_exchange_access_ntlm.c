
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * exchange_access_ntlm: NTLM and Negotiate authenticate a connection, not
 * a request.  In an upstream block with this directive, an upstream
 * connection belongs to the HTTP/1.x client connection whose request
 * opened it: it is kept after each response for that client connection's
 * next request, and closed when the client connection closes, when it
 * idles past the timeout, when the upstream closes it, or on any error.
 * No other client connection, in this worker or another, ever gets it.
 *
 * The peer callbacks of the block are wrapped the way the keepalive
 * module wraps them: init, get, free, and the TLS session ones.  The
 * balancer chooses a server when a client connection needs a new
 * upstream connection; while one is kept, its server is used again
 * without asking the balancer.  With the round robin family of balancers
 * (round robin, least_conn, hash, ip_hash, random) a kept connection
 * counts as a connection of its server, as a busy one does, so least_conn
 * sees the pinned load and max_conns limits it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ntlm.h"
#include "ngx_exa_credential.h"


/* the count a kept connection holds on its round robin server */

typedef struct {
    ngx_http_upstream_rr_peers_t     *peers;
    ngx_http_upstream_rr_peer_t      *peer;
} ngx_http_exchange_access_hold_t;


/* what a client connection keeps, in its pool */

typedef struct {
    ngx_connection_t                 *connection;  /* kept, idle */
    ngx_http_exchange_access_ntlm_srv_conf_t  *conf;
    ngx_http_upstream_conf_t         *tag;         /* the location's */
    ngx_http_exchange_access_hold_t   hold;
    ngx_uint_t                        serial;
    ngx_uint_t                        dropped;     /* unsigned:1 */
    socklen_t                         socklen;
    ngx_sockaddr_t                    sockaddr;
    ngx_str_t                         name;
    u_char                            addr[NGX_SOCKADDR_STRLEN];
} ngx_http_exchange_access_pin_t;


/* one request's upstream, wrapped */

typedef struct {
    ngx_http_exchange_access_ntlm_srv_conf_t  *conf;
    ngx_http_request_t               *request;
    ngx_http_upstream_t              *upstream;
    ngx_http_exchange_access_pin_t   *pin;

    void                             *data;
    ngx_event_get_peer_pt             original_get_peer;
    ngx_event_free_peer_pt            original_free_peer;
    ngx_event_notify_peer_pt          original_notify;
#if (NGX_HTTP_SSL)
    ngx_event_set_peer_session_pt     original_set_session;
    ngx_event_save_peer_session_pt    original_save_session;
#endif

    ngx_http_exchange_access_hold_t   hold;        /* of a kept one */
    ngx_uint_t                        serial;      /* of the one in use */
    unsigned                          pinnable:1;
    unsigned                          balanced:1;
    unsigned                          rr:1;
} ngx_http_exchange_access_ntlm_peer_t;


static ngx_int_t ngx_http_exchange_access_ntlm_get_peer(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_exchange_access_ntlm_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static void ngx_http_exchange_access_ntlm_notify(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t type);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_exchange_access_ntlm_set_session(
    ngx_peer_connection_t *pc, void *data);
static void ngx_http_exchange_access_ntlm_save_session(
    ngx_peer_connection_t *pc, void *data);
#endif
static ngx_uint_t ngx_http_exchange_access_ntlm_keepable(
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc,
    ngx_uint_t state);
static ngx_uint_t ngx_http_exchange_access_ntlm_same(
    ngx_http_exchange_access_pin_t *pin,
    ngx_http_exchange_access_ntlm_peer_t *np);
static void ngx_http_exchange_access_ntlm_keep(
    ngx_http_exchange_access_pin_t *pin,
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc);
static void ngx_http_exchange_access_ntlm_challenged(
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc);
static void ngx_http_exchange_access_ntlm_hold(
    ngx_http_exchange_access_hold_t *hold,
    ngx_http_upstream_rr_peer_data_t *rrp);
static void ngx_http_exchange_access_ntlm_release(
    ngx_http_exchange_access_hold_t *hold);
static void ngx_http_exchange_access_ntlm_dummy_handler(ngx_event_t *ev);
static void ngx_http_exchange_access_ntlm_close_handler(ngx_event_t *ev);
static void ngx_http_exchange_access_ntlm_unkeep(
    ngx_http_exchange_access_pin_t *pin);
static void ngx_http_exchange_access_ntlm_close(ngx_connection_t *c,
    ngx_uint_t failed);
static ngx_http_exchange_access_pin_t *ngx_http_exchange_access_ntlm_pin(
    ngx_connection_t *c, ngx_uint_t create);
static ngx_http_exchange_access_pin_t *ngx_http_exchange_access_ntlm_pin_add(
    ngx_connection_t *c);
static void ngx_http_exchange_access_ntlm_pin_cleanup(void *data);


/* numbers of upstream connections, unique in this worker */

static ngx_uint_t  ngx_http_exchange_access_ntlm_serials;


ngx_http_exchange_access_ntlm_answered_pt
    ngx_http_exchange_access_ntlm_answered;


ngx_int_t
ngx_http_exchange_access_ntlm_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t                       *u;
    ngx_http_exchange_access_ntlm_peer_t      *np;
    ngx_http_exchange_access_ntlm_srv_conf_t  *ntcf;

    ntcf = ngx_http_conf_upstream_srv_conf(us,
                                       ngx_http_exchange_access_ntlm_module);

    np = ngx_pcalloc(r->pool, sizeof(ngx_http_exchange_access_ntlm_peer_t));
    if (np == NULL) {
        return NGX_ERROR;
    }

    if (ntcf->original_init_peer(r, us) != NGX_OK) {
        return NGX_ERROR;
    }

    u = r->upstream;

    np->conf = ntcf;
    np->request = r;
    np->upstream = u;
    np->data = u->peer.data;
    np->original_get_peer = u->peer.get;
    np->original_free_peer = u->peer.free;

    /* the balancers that keep their state in round robin peer data */

    np->rr = (u->peer.free == ngx_http_upstream_free_round_robin_peer);

    /*
     * HTTP/2 and HTTP/3 multiplex requests of many origins over one
     * client connection: nothing is kept for them, nor for subrequests
     */

    if (r == r->main
        && r->http_version >= NGX_HTTP_VERSION_10
        && r->http_version <= NGX_HTTP_VERSION_11)
    {
        np->pinnable = 1;
        np->pin = ngx_http_exchange_access_ntlm_pin(r->connection, 0);
    }

    u->peer.data = np;
    u->peer.get = ngx_http_exchange_access_ntlm_get_peer;
    u->peer.free = ngx_http_exchange_access_ntlm_free_peer;

    if (u->peer.notify) {
        np->original_notify = u->peer.notify;
        u->peer.notify = ngx_http_exchange_access_ntlm_notify;
    }

#if (NGX_HTTP_SSL)
    np->original_set_session = u->peer.set_session;
    np->original_save_session = u->peer.save_session;
    u->peer.set_session = ngx_http_exchange_access_ntlm_set_session;
    u->peer.save_session = ngx_http_exchange_access_ntlm_save_session;
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_exchange_access_ntlm_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_exchange_access_ntlm_peer_t  *np = data;

    ngx_connection_t                *c;
    ngx_http_exchange_access_pin_t  *pin;

    pin = np->pin;

    if (np->pinnable && pin && pin->connection) {

        if (!ngx_http_exchange_access_ntlm_same(pin, np)) {

            /* the client went to another upstream: a new connection */

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                           "exchange access ntlm: kept connection %ui "
                           "does not fit, closed", pin->serial);

            ngx_http_exchange_access_ntlm_unkeep(pin);
            goto balance;
        }

        c = pin->connection;
        pin->connection = NULL;

        np->hold = pin->hold;
        pin->hold.peer = NULL;
        np->serial = pin->serial;
        np->balanced = 0;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "exchange access ntlm: using kept connection %ui "
                       "to %V", pin->serial, &pin->name);

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;
        pc->sockaddr = &pin->sockaddr.sockaddr;
        pc->socklen = pin->socklen;

        /* $upstream_addr: a name that stays for the whole request */

        if (np->hold.peer) {
            pc->name = &np->hold.peer->name;
#if (NGX_HTTP_UPSTREAM_SID)
            pc->sid = &np->hold.peer->sid;
#endif

        } else {
            pc->name = &pin->name;
        }

        return NGX_DONE;
    }

balance:

    np->balanced = 1;
    np->serial = ++ngx_http_exchange_access_ntlm_serials;

    pc->cached = 0;

    return np->original_get_peer(pc, np->data);
}


static void
ngx_http_exchange_access_ntlm_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state)
{
    ngx_http_exchange_access_ntlm_peer_t  *np = data;

    ngx_uint_t                       check;
    ngx_connection_t                *c;
    ngx_http_exchange_access_pin_t  *pin;

    c = pc->connection;
    check = 0;

    /* what the upstream answered on this connection, for the identity */

    if (np->pinnable
        && c
        && state == 0
        && np->upstream->headers_in.status_n
        && ngx_http_exchange_access_ntlm_answered)
    {
        ngx_http_exchange_access_ntlm_answered(np->request, np->serial,
                                       np->upstream->headers_in.status_n);
    }

    if (ngx_http_exchange_access_ntlm_keepable(np, pc, state)) {

        pin = np->pin;

        if (pin == NULL) {
            pin = ngx_http_exchange_access_ntlm_pin(np->request->connection,
                                                    1);
            np->pin = pin;
        }

        /* a client connection whose user left a list keeps nothing */

        if (pin && !pin->dropped) {
            ngx_http_exchange_access_ntlm_keep(pin, np, pc);
            check = c->read->ready;
            c = NULL;
        }
    }

    if (c) {

        /* not kept: closed here, so that nothing below can keep it */

        if (state == 0) {
            ngx_http_exchange_access_ntlm_challenged(np, pc);
        }

        pc->connection = NULL;

        ngx_http_exchange_access_ntlm_release(&np->hold);
        ngx_http_exchange_access_ntlm_close(c, state & NGX_PEER_FAILED);

    } else {
        ngx_http_exchange_access_ntlm_release(&np->hold);
    }

    if (np->balanced) {
        np->original_free_peer(pc, np->data, state);

    } else if (pc->tries) {

        /* a kept connection took the place of the balancer's try */

        pc->tries--;
    }

    if (check) {

        /* the upstream said something, or closed, while it was busy */

        ngx_http_exchange_access_ntlm_close_handler(np->pin->connection->read);
    }
}


static ngx_uint_t
ngx_http_exchange_access_ntlm_keepable(
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc,
    ngx_uint_t state)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    c = pc->connection;
    r = np->request;
    u = np->upstream;

    if (!np->pinnable
        || c == NULL
        || (state & NGX_PEER_FAILED)
        || c->read->eof
        || c->read->error
        || c->read->timedout
        || c->write->error
        || c->write->timedout)
    {
        return 0;
    }

    /* the response was read to its end and the upstream keeps it open */

    if (!u->keepalive || !u->request_body_sent) {
        return 0;
    }

    /* the client connection goes on */

    if (!r->keepalive || r->connection->error || r->connection->close) {
        return 0;
    }

    if (ngx_terminate || ngx_exiting) {
        return 0;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        return 0;
    }

    return 1;
}


/*
 * A kept connection serves a later request if it goes to the same
 * upstream block with the same TLS settings: the same location, or
 * locations that inherit their proxy_ssl_* settings alike.
 */

static ngx_uint_t
ngx_http_exchange_access_ntlm_same(ngx_http_exchange_access_pin_t *pin,
    ngx_http_exchange_access_ntlm_peer_t *np)
{
    ngx_http_upstream_t       *u;
    ngx_http_upstream_conf_t  *a, *b;

    u = np->upstream;

    if (pin->conf != np->conf) {
        return 0;
    }

    if (pin->tag == u->conf) {
        return 1;
    }

#if (NGX_HTTP_SSL)

    if ((pin->connection->ssl != NULL) != (u->ssl != 0)) {
        return 0;
    }

    if (pin->connection->ssl) {
        a = pin->tag;
        b = u->conf;

        return a->ssl == b->ssl
               && a->ssl_name == b->ssl_name
               && a->ssl_server_name == b->ssl_server_name
               && a->ssl_verify == b->ssl_verify
               && a->ssl_certificate == b->ssl_certificate;
    }

#else
    (void) a;
    (void) b;
#endif

    return 1;
}


static void
ngx_http_exchange_access_ntlm_keep(ngx_http_exchange_access_pin_t *pin,
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc)
{
    size_t             len;
    ngx_connection_t  *c;

    c = pc->connection;

    if (pin->connection) {

        /* cannot happen with HTTP/1.x: its requests come one at a time */

        ngx_http_exchange_access_ntlm_unkeep(pin);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "exchange access ntlm: keeping connection %ui to %V",
                   np->serial, pc->name);

    if (np->balanced) {
        pin->hold.peer = NULL;

        if (np->rr) {
            ngx_http_exchange_access_ntlm_hold(&pin->hold, np->data);
        }

    } else {
        pin->hold = np->hold;
        np->hold.peer = NULL;
    }

    pin->connection = c;
    pin->conf = np->conf;
    pin->tag = np->upstream->conf;
    pin->serial = np->serial;

    if (pc->sockaddr != &pin->sockaddr.sockaddr) {
        pin->socklen = ngx_min(pc->socklen, sizeof(ngx_sockaddr_t));
        ngx_memcpy(&pin->sockaddr, pc->sockaddr, pin->socklen);

        len = ngx_min(pc->name->len, NGX_SOCKADDR_STRLEN);
        ngx_memcpy(pin->addr, pc->name->data, len);
        pin->name.data = pin->addr;
        pin->name.len = len;
    }

    pc->connection = NULL;

    c->read->delayed = 0;
    ngx_add_timer(c->read, np->conf->timeout);

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->write->handler = ngx_http_exchange_access_ntlm_dummy_handler;
    c->read->handler = ngx_http_exchange_access_ntlm_close_handler;

    c->data = pin;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;
}


/*
 * An NTLM or Negotiate challenge on a connection that is not kept: the
 * client's next leg goes to another connection and the handshake cannot
 * complete.  Said once per worker and upstream block.
 */

static void
ngx_http_exchange_access_ntlm_challenged(
    ngx_http_exchange_access_ntlm_peer_t *np, ngx_peer_connection_t *pc)
{
    size_t                n;
    u_char               *p;
    ngx_table_elt_t      *h;
    ngx_http_upstream_t  *u;

    u = np->upstream;

    /* not kept because of the upstream side, while the client goes on */

    if (!np->pinnable
        || np->conf->warned
        || u->keepalive
        || !np->request->keepalive
        || u->headers_in.status_n != NGX_HTTP_UNAUTHORIZED)
    {
        return;
    }

    h = u->headers_in.www_authenticate;

    if (h == NULL) {
        return;
    }

    /* the challenge's scheme: its first token */

    p = h->value.data;

    for (n = 0; n < h->value.len; n++) {
        if (p[n] == ' ' || p[n] == '\t' || p[n] == ',') {
            break;
        }
    }

    if (!(ngx_exa_scheme_flags(ngx_exa_scheme_of(p, n))
          & NGX_EXA_SCHEME_CONNECTION))
    {
        return;
    }

    np->conf->warned = 1;

    ngx_log_error(NGX_LOG_WARN, pc->log, 0,
                  "exchange_access_ntlm: the connection to %V that sent "
                  "an authentication challenge could not be kept, the "
                  "handshake cannot complete (the upstream closed it, or "
                  "the request was not sent with \"proxy_http_version "
                  "1.1\" and \"proxy_set_header Connection \"\"\")",
                  pc->name);
}


static void
ngx_http_exchange_access_ntlm_hold(ngx_http_exchange_access_hold_t *hold,
    ngx_http_upstream_rr_peer_data_t *rrp)
{
    if (rrp->current == NULL) {
        return;
    }

    hold->peers = rrp->peers;
    hold->peer = rrp->current;

    ngx_http_upstream_rr_peers_rlock(hold->peers);
    ngx_http_upstream_rr_peer_lock(hold->peers, hold->peer);

    hold->peer->conns++;

#ifdef ngx_http_upstream_rr_peer_ref
    ngx_http_upstream_rr_peer_ref(hold->peers, hold->peer);
#endif

    ngx_http_upstream_rr_peer_unlock(hold->peers, hold->peer);
    ngx_http_upstream_rr_peers_unlock(hold->peers);
}


static void
ngx_http_exchange_access_ntlm_release(ngx_http_exchange_access_hold_t *hold)
{
    ngx_http_upstream_rr_peer_t  *peer;

    peer = hold->peer;

    if (peer == NULL) {
        return;
    }

    hold->peer = NULL;

    ngx_http_upstream_rr_peers_rlock(hold->peers);
    ngx_http_upstream_rr_peer_lock(hold->peers, peer);

    if (peer->conns) {
        peer->conns--;
    }

#ifdef ngx_http_upstream_rr_peer_ref
    if (ngx_http_upstream_rr_peer_unref(hold->peers, peer) == NGX_OK) {
        ngx_http_upstream_rr_peer_unlock(hold->peers, peer);
    }
#else
    ngx_http_upstream_rr_peer_unlock(hold->peers, peer);
#endif

    ngx_http_upstream_rr_peers_unlock(hold->peers);
}


static void
ngx_http_exchange_access_ntlm_notify(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t type)
{
    ngx_http_exchange_access_ntlm_peer_t  *np = data;

    np->original_notify(pc, np->data, type);
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_exchange_access_ntlm_set_session(ngx_peer_connection_t *pc,
    void *data)
{
    ngx_http_exchange_access_ntlm_peer_t  *np = data;

    return np->original_set_session(pc, np->data);
}


static void
ngx_http_exchange_access_ntlm_save_session(ngx_peer_connection_t *pc,
    void *data)
{
    ngx_http_exchange_access_ntlm_peer_t  *np = data;

    np->original_save_session(pc, np->data);
}

#endif


static void
ngx_http_exchange_access_ntlm_dummy_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "exchange access ntlm: dummy handler");
}


/*
 * A kept connection is idle: anything the upstream sends now (its close,
 * most often) ends it, and so do the idle timeout and worker shutdown.
 */

static void
ngx_http_exchange_access_ntlm_close_handler(ngx_event_t *ev)
{
    int                              n;
    char                             buf[1];
    ngx_connection_t                *c;
    ngx_http_exchange_access_pin_t  *pin;

    c = ev->data;
    pin = c->data;

    if (c->close || ev->timedout) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "exchange access ntlm: kept connection %ui %s",
                       pin->serial, c->close ? "closed" : "timed out");
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "exchange access ntlm: kept connection %ui %s",
                   pin->serial,
                   n == 0 ? "closed by the upstream" : "got data");

close:

    ngx_http_exchange_access_ntlm_unkeep(pin);
}


static void
ngx_http_exchange_access_ntlm_unkeep(ngx_http_exchange_access_pin_t *pin)
{
    ngx_connection_t  *c;

    c = pin->connection;

    if (c == NULL) {
        return;
    }

    pin->connection = NULL;

    ngx_http_exchange_access_ntlm_release(&pin->hold);
    ngx_http_exchange_access_ntlm_close(c, 0);
}


static void
ngx_http_exchange_access_ntlm_close(ngx_connection_t *c, ngx_uint_t failed)
{
#if (NGX_HTTP_SSL)

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;

        (void) ngx_ssl_shutdown(c);
    }

#endif

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "exchange access ntlm: close upstream connection %d%s",
                   c->fd, failed ? " after an error" : "");

    if (c->pool) {
        ngx_destroy_pool(c->pool);
    }

    ngx_close_connection(c);
}


/*
 * What a client connection keeps lives in its pool: the pool's cleanup,
 * run when the client connection closes, closes the kept connection.
 * Looked for inline (every request looks), created apart.
 */

static ngx_inline ngx_http_exchange_access_pin_t *
ngx_http_exchange_access_ntlm_pin(ngx_connection_t *c, ngx_uint_t create)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = c->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_exchange_access_ntlm_pin_cleanup) {
            return cln->data;
        }
    }

    return create ? ngx_http_exchange_access_ntlm_pin_add(c) : NULL;
}


static ngx_http_exchange_access_pin_t *
ngx_http_exchange_access_ntlm_pin_add(ngx_connection_t *c)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_exchange_access_pin_t  *pin;

    cln = ngx_pool_cleanup_add(c->pool,
                               sizeof(ngx_http_exchange_access_pin_t));
    if (cln == NULL) {
        return NULL;
    }

    pin = cln->data;
    ngx_memzero(pin, sizeof(ngx_http_exchange_access_pin_t));

    cln->handler = ngx_http_exchange_access_ntlm_pin_cleanup;

    return pin;
}


static void
ngx_http_exchange_access_ntlm_pin_cleanup(void *data)
{
    ngx_http_exchange_access_pin_t  *pin = data;

    ngx_http_exchange_access_ntlm_unkeep(pin);
}


ngx_uint_t
ngx_http_exchange_access_ntlm_kept(ngx_connection_t *c)
{
    ngx_http_exchange_access_pin_t  *pin;

    pin = ngx_http_exchange_access_ntlm_pin(c, 0);

    if (pin == NULL || pin->connection == NULL) {
        return 0;
    }

    return pin->serial;
}


void
ngx_http_exchange_access_ntlm_drop(ngx_connection_t *c)
{
    ngx_http_exchange_access_pin_t  *pin;

    pin = ngx_http_exchange_access_ntlm_pin(c, 1);

    if (pin == NULL) {
        return;
    }

    pin->dropped = 1;
    ngx_http_exchange_access_ntlm_unkeep(pin);
}
