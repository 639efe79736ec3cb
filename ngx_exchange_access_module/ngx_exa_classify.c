
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_classify.h"


typedef struct {
    const char            *name;
    size_t                 len;
    int                    protocol;
} ngx_exa_vdir_t;


#define ngx_exa_vdir(s, p)  { s, sizeof(s) - 1, p }

static const ngx_exa_vdir_t  ngx_exa_vdirs[] = {
    ngx_exa_vdir("mapi", NGX_EXA_PROTO_MAPI),
    ngx_exa_vdir("rpc", NGX_EXA_PROTO_RPC),
    ngx_exa_vdir("rpcwithcert", NGX_EXA_PROTO_RPC),
    ngx_exa_vdir("ews", NGX_EXA_PROTO_EWS),
    ngx_exa_vdir("api", NGX_EXA_PROTO_EWS),
    ngx_exa_vdir("microsoft-server-activesync", NGX_EXA_PROTO_EAS),
    ngx_exa_vdir("owa", NGX_EXA_PROTO_OWA),
    ngx_exa_vdir("ecp", NGX_EXA_PROTO_ECP),
    ngx_exa_vdir("oab", NGX_EXA_PROTO_OAB),
    ngx_exa_vdir("autodiscover", NGX_EXA_PROTO_AUTODISCOVER),
    ngx_exa_vdir("powershell", NGX_EXA_PROTO_POWERSHELL),
    { NULL, 0, 0 }
};


static const char  *ngx_exa_protocol_names[] = {
    "other", "mapi", "rpc", "ews", "eas", "owa", "ecp", "oab",
    "autodiscover", "powershell"
};


static int
ngx_exa_caseeq(const unsigned char *p, const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (unsigned char) s[i]) {
            return 0;
        }
    }

    return 1;
}


/*
 * uri is nginx's decoded and merged path; args the raw query string.
 * The first path segment names the virtual directory, as IIS does.
 */

void
ngx_exa_classify(const unsigned char *uri, size_t len,
    const unsigned char *args, size_t alen, ngx_exa_class_t *cls)
{
    size_t                 n;
    const ngx_exa_vdir_t  *v;

    (void) args;
    (void) alen;

    cls->protocol = NGX_EXA_PROTO_OTHER;
    cls->flags = 0;
    cls->why = NULL;

    if (len < 2 || uri[0] != '/') {
        return;
    }

    uri++;
    len--;

    for (n = 0; n < len && uri[n] != '/'; n++) {
        /* void */
    }

    for (v = ngx_exa_vdirs; v->name; v++) {
        if (v->len == n && ngx_exa_caseeq(uri, v->name, n)) {
            cls->protocol = v->protocol;
            return;
        }
    }
}


const char *
ngx_exa_protocol_name(int protocol)
{
    if (protocol < 0 || protocol >= NGX_EXA_PROTO_N) {
        return "other";
    }

    return ngx_exa_protocol_names[protocol];
}


int
ngx_exa_protocol_by_name(const unsigned char *p, size_t len)
{
    int  i;

    for (i = 0; i < NGX_EXA_PROTO_N; i++) {
        if (strlen(ngx_exa_protocol_names[i]) == len
            && ngx_exa_caseeq(p, ngx_exa_protocol_names[i], len))
        {
            return i;
        }
    }

    return -1;
}
