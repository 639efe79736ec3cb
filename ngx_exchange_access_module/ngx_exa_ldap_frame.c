
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ngx_exa_ldap_refresh_int.h"


/*
 * A Sockbuf I/O layer above the connection's: every message the server
 * sends passes through it before liblber sees it.  It checks the frame of
 * each message (an LDAPMessage SEQUENCE, a short INTEGER messageID, a
 * protocolOp that answers a refresh's requests and fits in the message)
 * and its length, so that a message
 * longer than conf->message_max fails the refresh at its first bytes,
 * instead of being buffered to the length it announces, and so that
 * libldap never sees the malformed messages whose memory it loses.
 */


#define NGX_EXA_LR_FRAME_NEED   0
#define NGX_EXA_LR_FRAME_OK     1
#define NGX_EXA_LR_FRAME_BAD    2


static int ngx_exa_lr_frame_setup(Sockbuf_IO_Desc *sbiod, void *arg);
static int ngx_exa_lr_frame_remove(Sockbuf_IO_Desc *sbiod);
static int ngx_exa_lr_frame_ctrl(Sockbuf_IO_Desc *sbiod, int opt,
    void *arg);
static ber_slen_t ngx_exa_lr_frame_read(Sockbuf_IO_Desc *sbiod, void *buf,
    ber_len_t len);
static ber_slen_t ngx_exa_lr_frame_write(Sockbuf_IO_Desc *sbiod, void *buf,
    ber_len_t len);
static int ngx_exa_lr_frame_close(Sockbuf_IO_Desc *sbiod);
static int ngx_exa_lr_frame_length(const unsigned char *h, size_t n,
    size_t *p, size_t *len);
static int ngx_exa_lr_frame_header(ngx_exa_lr_t *r, size_t *total);


static Sockbuf_IO  ngx_exa_lr_frame_io = {
    ngx_exa_lr_frame_setup,
    ngx_exa_lr_frame_remove,
    ngx_exa_lr_frame_ctrl,
    ngx_exa_lr_frame_read,
    ngx_exa_lr_frame_write,
    ngx_exa_lr_frame_close
};


int
ngx_exa_lr_frame_add(ngx_exa_lr_t *r)
{
    Sockbuf    *sb;
    ber_len_t   max;

    if (ldap_get_option(r->ld, LDAP_OPT_SOCKBUF, (void *) &sb)
        != LDAP_OPT_SUCCESS)
    {
        return -1;
    }

    if (r->conf->message_max) {
        max = r->conf->message_max;

        if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max) != 1) {
            return -1;
        }
    }

    if (ber_sockbuf_add_io(sb, &ngx_exa_lr_frame_io,
                           LBER_SBIOD_LEVEL_APPLICATION, r)
        != 0)
    {
        return -1;
    }

    r->framed = 1;

    return 0;
}


void
ngx_exa_lr_frame_del(ngx_exa_lr_t *r)
{
    Sockbuf  *sb;

    if (!r->framed) {
        return;
    }

    r->framed = 0;

    if (ldap_get_option(r->ld, LDAP_OPT_SOCKBUF, (void *) &sb)
        == LDAP_OPT_SUCCESS)
    {
        (void) ber_sockbuf_remove_io(sb, &ngx_exa_lr_frame_io,
                                     LBER_SBIOD_LEVEL_APPLICATION);
    }
}


static int
ngx_exa_lr_frame_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}


static int
ngx_exa_lr_frame_remove(Sockbuf_IO_Desc *sbiod)
{
    (void) sbiod;
    return 0;
}


static int
ngx_exa_lr_frame_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}


static ber_slen_t
ngx_exa_lr_frame_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}


static int
ngx_exa_lr_frame_close(Sockbuf_IO_Desc *sbiod)
{
    (void) sbiod;
    return 0;
}


/* what the server sent, read from below, looked at before liblber sees it */

static ber_slen_t
ngx_exa_lr_frame_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    size_t          k, total;
    ber_slen_t      n, left;
    ngx_exa_lr_t   *r;
    unsigned char  *p;

    r = sbiod->sbiod_pvt;

    if (r->frame_error[0]) {
        errno = EPROTO;
        return -1;
    }

    n = LBER_SBIOD_READ_NEXT(sbiod, buf, len);

    if (n <= 0) {
        return n;
    }

    r->received += n;

    p = buf;
    left = n;

    while (left > 0) {

        if (r->frame_left) {
            k = r->frame_left < (size_t) left ? r->frame_left : (size_t) left;
            r->frame_left -= k;
            p += k;
            left -= k;
            continue;
        }

        r->frame[r->frame_len++] = *p++;
        left--;

        switch (ngx_exa_lr_frame_header(r, &total)) {

        case NGX_EXA_LR_FRAME_OK:
            r->frame_left = total - r->frame_len;
            r->frame_len = 0;
            break;

        case NGX_EXA_LR_FRAME_BAD:
            errno = EPROTO;
            return -1;

        default:
            break;
        }
    }

    return n;
}


/* a BER length at h[*p]: 1 when read, 0 when more is needed, -1 if bad */

static int
ngx_exa_lr_frame_length(const unsigned char *h, size_t n, size_t *p,
    size_t *len)
{
    size_t  i, k;

    if (*p >= n) {
        return 0;
    }

    if (h[*p] < 0x80) {
        *len = h[(*p)++];
        return 1;
    }

    k = h[*p] & 0x7f;

    if (k == 0 || k > 4) {
        return -1;
    }

    if (*p + 1 + k > n) {
        return 0;
    }

    *len = 0;

    for (i = 1; i <= k; i++) {
        *len = (*len << 8) | h[*p + i];
    }

    *p += 1 + k;

    return 1;
}


/*
 * The header of a message so far: SEQUENCE, its length, the messageID,
 * the protocolOp's tag and length.  NGX_EXA_LR_FRAME_OK with the length of
 * the whole message, _NEED, or _BAD with r->frame_error.
 */

static int
ngx_exa_lr_frame_header(ngx_exa_lr_t *r, size_t *total)
{
    int             rc;
    size_t          p, len, end, id, op;
    unsigned char  *h;

    h = r->frame;
    p = 1;
    end = 0;

    if (h[0] != 0x30) {
        goto bad;
    }

    rc = ngx_exa_lr_frame_length(h, r->frame_len, &p, &len);
    if (rc <= 0) {
        goto more;
    }

    if (r->conf->message_max && len > r->conf->message_max) {
        snprintf(r->frame_error, sizeof(r->frame_error),
                 "a message of %zu bytes, more than %zu MB", len + p,
                 r->conf->message_max >> 20);
        return NGX_EXA_LR_FRAME_BAD;
    }

    end = p + len;

    /* messageID: INTEGER, 1 to 4 bytes */

    if (p + 2 > r->frame_len) {
        goto more;
    }

    id = h[p + 1];

    if (h[p] != 0x02 || id == 0 || id > 4) {
        goto bad;
    }

    p += 2 + id;

    if (p > r->frame_len) {
        goto more;
    }

    while (id && h[p - id] == 0) {
        id--;
    }

    /*
     * protocolOp: an answer to what a refresh asks (bind, search entry,
     * reference and result, extended and intermediate responses), with a
     * length inside the message
     */

    if (p + 1 > r->frame_len) {
        goto more;
    }

    /*
     * messageID 0 with an extended response: an unsolicited notification.
     * Notice of Disconnection, the one servers send, ends the session
     * anyway, and libldap loses the memory of one it cannot read: the
     * refresh goes to the next server.  (libldap throws other messages of
     * ID 0 away unread.)
     */

    if (id == 0 && h[p] == LDAP_RES_EXTENDED) {
        snprintf(r->frame_error, sizeof(r->frame_error),
                 "an unsolicited notification: the server ends the session");
        return NGX_EXA_LR_FRAME_BAD;
    }

    switch (h[p]) {
    case LDAP_RES_BIND:
    case LDAP_RES_SEARCH_ENTRY:
    case LDAP_RES_SEARCH_REFERENCE:
    case LDAP_RES_SEARCH_RESULT:
    case LDAP_RES_EXTENDED:
    case LDAP_RES_INTERMEDIATE:
        break;
    default:
        goto bad;
    }

    p++;

    rc = ngx_exa_lr_frame_length(h, r->frame_len, &p, &op);
    if (rc <= 0) {
        goto more;
    }

    if (p > end || op > end - p) {
        goto bad;
    }

    *total = end;

    return NGX_EXA_LR_FRAME_OK;

more:

    if (rc < 0) {
        goto bad;
    }

    /* a message that ends inside its own header */

    if (end && r->frame_len >= end) {
        goto bad;
    }

    if (r->frame_len == sizeof(r->frame)) {
        goto bad;
    }

    return NGX_EXA_LR_FRAME_NEED;

bad:

    snprintf(r->frame_error, sizeof(r->frame_error),
             "a message that is not an LDAP answer");

    return NGX_EXA_LR_FRAME_BAD;
}
