
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
 * and a read that would block returns EWOULDBLOCK to libldap.
 */


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


/* puts the layer under ld; returns 0, or -1 */

int
ngx_http_exchange_access_ldap_io(LDAP *ld, ngx_connection_t *c)
{
    Sockbuf  *sb;

    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, (void *) &sb)
        != LDAP_OPT_SUCCESS)
    {
        return -1;
    }

    return ber_sockbuf_add_io(sb, &ngx_http_exchange_access_sbio,
                              LBER_SBIOD_LEVEL_PROVIDER, c);
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
 * Is there more to read: in OpenSSL's buffers, or on the socket?  libldap
 * asks before it polls, and the refresh asks after libldap returned
 * nothing, so that a message behind one libldap threw away is read now.
 */

static int
ngx_http_exchange_access_sb_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    u_char             b;
    ngx_connection_t  *c = sbiod->sbiod_pvt;

    if (opt != LBER_SB_OPT_DATA_READY) {
        return 0;
    }

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
