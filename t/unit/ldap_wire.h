
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _LDAP_WIRE_H_INCLUDED_
#define _LDAP_WIRE_H_INCLUDED_


/*
 * A directory server on a string, for the unit tests and the fuzzer of
 * the LDAP refresh: libldap reads the server's side of a conversation from
 * memory through a Sockbuf I/O provider (as it reads nginx's connection in
 * the module), and what it writes is counted and dropped.  The wire_*()
 * builders encode answers with liblber.
 */


#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <lber.h>
#include <ldap.h>
#include <openldap.h>


#define WIRE_MAX  (1024 * 1024)


typedef struct {
    unsigned char         *in;
    size_t                 len;
    size_t                 pos;
    size_t                 chunk;       /* bytes a read returns, 0: all */
    size_t                 written;
} wire_t;


static int
wire_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
    sbiod->sbiod_pvt = arg;
    return 0;
}


static int
wire_remove(Sockbuf_IO_Desc *sbiod)
{
    (void) sbiod;
    return 0;
}


static int
wire_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
    wire_t  *w = sbiod->sbiod_pvt;

    (void) arg;

    if (opt == LBER_SB_OPT_DATA_READY) {
        return w->pos < w->len;
    }

    return 0;
}


static ber_slen_t
wire_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    size_t   n;
    wire_t  *w = sbiod->sbiod_pvt;

    if (w->pos >= w->len) {
        errno = EWOULDBLOCK;
        return -1;
    }

    n = w->len - w->pos;

    if (n > len) {
        n = len;
    }

    if (w->chunk && n > w->chunk) {
        n = w->chunk;
    }

    memcpy(buf, w->in + w->pos, n);
    w->pos += n;

    return (ber_slen_t) n;
}


static ber_slen_t
wire_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
    wire_t  *w = sbiod->sbiod_pvt;

    (void) buf;
    w->written += len;

    return (ber_slen_t) len;
}


static int
wire_close(Sockbuf_IO_Desc *sbiod)
{
    (void) sbiod;
    return 0;
}


static Sockbuf_IO  wire_io = {
    wire_setup, wire_remove, wire_ctrl, wire_read, wire_write, wire_close
};


/*
 * An LDAP handle on the wire.  libldap polls its descriptor when the wire
 * has nothing: the read end of a pipe nobody writes to never is readable.
 */

static LDAP *
wire_ldap(wire_t *w)
{
    int         version;
    LDAP       *ld;
    Sockbuf    *sb;
    static int  fds[2] = { -1, -1 };

    if (fds[0] == -1 && pipe(fds) != 0) {
        return NULL;
    }

    if (ldap_init_fd(fds[0], LDAP_PROTO_EXT, "ldap://wire", &ld)
        != LDAP_SUCCESS)
    {
        return NULL;
    }

    version = LDAP_VERSION3;

    if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        != LDAP_OPT_SUCCESS
        || ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS
        || ldap_get_option(ld, LDAP_OPT_SOCKBUF, (void *) &sb)
           != LDAP_OPT_SUCCESS
        || ber_sockbuf_add_io(sb, &wire_io, LBER_SBIOD_LEVEL_PROVIDER, w)
           != 0)
    {
        ldap_unbind_ext(ld, NULL, NULL);
        return NULL;
    }

    return ld;
}


/* appends an encoded message to the wire */

static void
wire_add(wire_t *w, BerElement *ber)
{
    struct berval  *bv;

    if (ber_flatten(ber, &bv) == 0) {
        if (w->len + bv->bv_len <= WIRE_MAX) {
            memcpy(w->in + w->len, bv->bv_val, bv->bv_len);
            w->len += bv->bv_len;
        }

        ber_bvfree(bv);
    }

    ber_free(ber, 1);
}


/* a result: bind, search done, extended (tag: LDAP_RES_*) */

static void
wire_result(wire_t *w, int msgid, ber_tag_t tag, int code, const char *text)
{
    BerElement  *ber;

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{ess}}", msgid, tag, code, "", text);
    wire_add(w, ber);
}


/* a search done with a paged results cookie ("" ends the paging) */

static void
wire_page_done(wire_t *w, int msgid, const char *cookie)
{
    BerElement     *ber, *val;
    struct berval  *bv;

    val = ber_alloc_t(LBER_USE_DER);
    ber_printf(val, "{io}", 0, cookie, strlen(cookie));
    ber_flatten(val, &bv);
    ber_free(val, 1);

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{ess}t{{sO}}}", msgid,
               (ber_tag_t) LDAP_RES_SEARCH_RESULT, 0, "", "",
               (ber_tag_t) LDAP_TAG_CONTROLS,
               LDAP_CONTROL_PAGEDRESULTS, bv);
    ber_bvfree(bv);
    wire_add(w, ber);
}


/*
 * A search entry: attrs is "type", value, value, ..., NULL, "type", ...,
 * NULL, NULL.
 */

static void
wire_entry(wire_t *w, int msgid, const char *dn, const char **attrs)
{
    BerElement  *ber;

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{s{", msgid, (ber_tag_t) LDAP_RES_SEARCH_ENTRY, dn);

    while (*attrs) {
        ber_printf(ber, "{s[", *attrs++);

        while (*attrs) {
            ber_printf(ber, "o", *attrs, strlen(*attrs));
            attrs++;
        }

        attrs++;
        ber_printf(ber, "]}");
    }

    ber_printf(ber, "}}}");
    wire_add(w, ber);
}


static void
wire_reference(wire_t *w, int msgid, const char *uri)
{
    BerElement  *ber;

    ber = ber_alloc_t(LBER_USE_DER);
    ber_printf(ber, "{it{s}}", msgid, (ber_tag_t) LDAP_RES_SEARCH_REFERENCE,
               uri);
    wire_add(w, ber);
}


#endif /* _LDAP_WIRE_H_INCLUDED_ */
