
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_exchange_access_ldap.h"


/*
 * libldap on an nginx connection: a Sockbuf I/O provider whose reads and
 * writes are the connection's recv() and send(), so that TLS is nginx's
 * and a read that would block returns EWOULDBLOCK to libldap.  liblber
 * asks for a message's header, then for its body: reads go through a
 * buffer of 16 KB, so that a search of 100,000 entries costs a few
 * thousand recv() calls, not some for every entry.
 */


#define NGX_HTTP_EXCHANGE_ACCESS_LDAP_IO_BUF  16384


struct ngx_http_exchange_access_ldap_io_s {
    ngx_connection_t  *connection;
    u_char            *pos;
    u_char            *last;
    u_char             buf[NGX_HTTP_EXCHANGE_ACCESS_LDAP_IO_BUF];
};


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


/* puts the layer under ld, its buffer from pool; returns it, or NULL */

ngx_http_exchange_access_ldap_io_t *
ngx_http_exchange_access_ldap_io(LDAP *ld, ngx_connection_t *c,
    ngx_pool_t *pool)
{
    Sockbuf                             *sb;
    ngx_http_exchange_access_ldap_io_t  *io;

    io = ngx_palloc(pool, sizeof(ngx_http_exchange_access_ldap_io_t));
    if (io == NULL) {
        return NULL;
    }

    io->connection = c;
    io->pos = io->buf;
    io->last = io->buf;

    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, (void *) &sb)
        != LDAP_OPT_SUCCESS)
    {
        return NULL;
    }

    if (ber_sockbuf_add_io(sb, &ngx_http_exchange_access_sbio,
                           LBER_SBIOD_LEVEL_PROVIDER, io)
        != 0)
    {
        return NULL;
    }

    return io;
}


/*
 * What was read and libldap has not taken yet.  Nothing may be there when
 * TLS starts after StartTLS: bytes the server sent before its handshake
 * would otherwise pass for bytes that came through TLS.
 */

size_t
ngx_http_exchange_access_ldap_io_buffered(
    ngx_http_exchange_access_ldap_io_t *io)
{
    return io->last - io->pos;
}


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


/*
 * Is there more to read: in the buffer, in OpenSSL's buffers, or on the
 * socket?  libldap asks before it polls, and the refresh asks after
 * libldap returned nothing, so that a message behind one libldap threw
 * away is read now.
 */

static int
ngx_http_exchange_access_sb_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    u_char                               b;
    ngx_connection_t                    *c;
    ngx_http_exchange_access_ldap_io_t  *io = sbiod->sbiod_pvt;

    if (opt != LBER_SB_OPT_DATA_READY) {
        return 0;
    }

    if (io->pos < io->last) {
        return 1;
    }

    c = io->connection;

#if (NGX_SSL)
    if (c->ssl && SSL_has_pending(c->ssl->connection)) {
        return 1;
    }
#endif

    return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
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
    size_t                               n;
    ssize_t                              got;
    ngx_connection_t                    *c;
    ngx_http_exchange_access_ldap_io_t  *io = sbiod->sbiod_pvt;

    c = io->connection;

    if (io->pos == io->last) {

        if (len >= NGX_HTTP_EXCHANGE_ACCESS_LDAP_IO_BUF) {
            /* a large body: straight into libldap's memory */
            return ngx_http_exchange_access_sb_result(c->recv(c, buf, len));
        }

        got = c->recv(c, io->buf, NGX_HTTP_EXCHANGE_ACCESS_LDAP_IO_BUF);

        if (got <= 0) {
            return ngx_http_exchange_access_sb_result(got);
        }

        io->pos = io->buf;
        io->last = io->buf + got;
    }

    n = ngx_min((size_t) (io->last - io->pos), (size_t) len);

    ngx_memcpy(buf, io->pos, n);
    io->pos += n;

    return (ber_slen_t) n;
}


static ber_slen_t
ngx_http_exchange_access_sb_write(Sockbuf_IO_Desc *sbiod, void *buf,
    ber_len_t len)
{
    ngx_connection_t                    *c;
    ngx_http_exchange_access_ldap_io_t  *io = sbiod->sbiod_pvt;

    c = io->connection;

    return ngx_http_exchange_access_sb_result(c->send(c, buf, len));
}


static int
ngx_http_exchange_access_sb_close(Sockbuf_IO_Desc *sbiod)
{
    /* nginx closes the connection */
    return 0;
}


/*
 * A search that stays open may see nothing for hours: TCP keepalives
 * tell a server that went away (30 s idle, then 3 probes 10 s apart).
 */

void
ngx_http_exchange_access_ldap_keepalive(ngx_connection_t *c)
{
    int  on;

    on = 1;

    (void) setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, (const void *) &on,
                      sizeof(int));

#if (NGX_HAVE_KEEPALIVE_TUNABLE)
    on = 30;
    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, (const void *) &on,
                      sizeof(int));
    on = 10;
    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, (const void *) &on,
                      sizeof(int));
    on = 3;
    (void) setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, (const void *) &on,
                      sizeof(int));
#endif
}
