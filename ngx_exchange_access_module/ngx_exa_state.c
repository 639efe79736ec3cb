
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdio.h>
#include <string.h>

#include "ngx_exa_state.h"
#include "ngx_exa_name.h"


#define NGX_EXA_STATE_HEAD     "# exchange_access_list \""
#define NGX_EXA_STATE_TAIL     "\" state, version "
#define NGX_EXA_STATE_END      "# end, "


static int ngx_exa_state_escaped(unsigned char c, size_t i, int quote);
static unsigned char *ngx_exa_state_escape(unsigned char *p,
    const unsigned char *s, size_t len, int quote);
static int ngx_exa_state_digit(unsigned char c);
static int ngx_exa_state_unescape(const unsigned char *p, size_t len,
    unsigned char *out, size_t *olen);
static int ngx_exa_state_header(const unsigned char *p, size_t len);
static int ngx_exa_state_end(const unsigned char *p, size_t len, size_t n,
    uint32_t sum);


static const char  ngx_exa_state_hex[] = "0123456789abcdef";


static int
ngx_exa_state_escaped(unsigned char c, size_t i, int quote)
{
    return c == '%' || c < 0x21 || c == 0x7f || (c == '#' && i == 0)
           || (quote && c == '"');
}


static unsigned char *
ngx_exa_state_escape(unsigned char *p, const unsigned char *s, size_t len,
    int quote)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (ngx_exa_state_escaped(s[i], i, quote)) {
            *p++ = '%';
            *p++ = ngx_exa_state_hex[s[i] >> 4];
            *p++ = ngx_exa_state_hex[s[i] & 0x0f];

        } else {
            *p++ = s[i];
        }
    }

    return p;
}


/* the bytes the file of these keys takes */

size_t
ngx_exa_state_size(size_t namelen, const ngx_exa_str_t *keys, size_t nkeys)
{
    size_t  i, size;

    size = sizeof(NGX_EXA_STATE_HEAD NGX_EXA_STATE_TAIL "2\n") + 3 * namelen
           + sizeof(NGX_EXA_STATE_END "18446744073709551615 names, "
                    "checksum 00000000\n");

    for (i = 0; i < nkeys; i++) {
        size += 3 * keys[i].len + 1;
    }

    return size;
}


/* writes the file into p, which holds ngx_exa_state_size(); returns its end */

unsigned char *
ngx_exa_state_write(unsigned char *p, const unsigned char *name,
    size_t namelen, const ngx_exa_str_t *keys, size_t nkeys)
{
    size_t          i;
    uint32_t        sum;
    unsigned char  *line;

    p = (unsigned char *) memcpy(p, NGX_EXA_STATE_HEAD,
                                 sizeof(NGX_EXA_STATE_HEAD) - 1)
        + sizeof(NGX_EXA_STATE_HEAD) - 1;
    p = ngx_exa_state_escape(p, name, namelen, 1);
    p += sprintf((char *) p, NGX_EXA_STATE_TAIL "%d\n",
                 NGX_EXA_STATE_VERSION);

    sum = 2166136261u;

    for (i = 0; i < nkeys; i++) {
        line = p;
        p = ngx_exa_state_escape(p, keys[i].data, keys[i].len, 0);
        *p++ = '\n';

        for ( /* void */ ; line < p; line++) {
            sum = (sum ^ *line) * 16777619u;
        }
    }

    p += sprintf((char *) p, NGX_EXA_STATE_END "%zu names, checksum %08x\n",
                 nkeys, (unsigned) sum);

    return p;
}


static int
ngx_exa_state_digit(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
ngx_exa_state_unescape(const unsigned char *p, size_t len, unsigned char *out,
    size_t *olen)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {

        if (n == NGX_EXA_KEY_MAX) {
            return -1;
        }

        if (p[i] != '%') {
            if (ngx_exa_state_escaped(p[i], n, 0)) {
                return -1;            /* must have been written escaped */
            }

            out[n++] = p[i];
            continue;
        }

        if (len - i < 3) {
            return -1;
        }

        hi = ngx_exa_state_digit(p[i + 1]);
        lo = ngx_exa_state_digit(p[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[n] = (unsigned char) (hi << 4 | lo);

        if (!ngx_exa_state_escaped(out[n], n, 0)) {
            return -1;                /* escaped what needs no escape */
        }

        n++;
        i += 2;
    }

    *olen = n;

    return 0;
}


static int
ngx_exa_state_header(const unsigned char *p, size_t len)
{
    size_t  h, t;

    h = sizeof(NGX_EXA_STATE_HEAD) - 1;
    t = sizeof(NGX_EXA_STATE_TAIL "2") - 1;

    if (len < h + t || memcmp(p, NGX_EXA_STATE_HEAD, h) != 0) {

        /* what versions before 2 wrote first */

        if (len > 45 && memcmp(p, "# exchange_access_list ", 23) == 0
            && memcmp(p + len - 22, "state, one name a line", 22) == 0)
        {
            return NGX_EXA_STATE_VERSION_OLD;
        }

        return NGX_EXA_STATE_NOT_STATE;
    }

    if (memcmp(p + len - t, NGX_EXA_STATE_TAIL "2", t) != 0) {
        return NGX_EXA_STATE_NOT_STATE;
    }

    return NGX_EXA_STATE_OK;
}


static int
ngx_exa_state_end(const unsigned char *p, size_t len, size_t n, uint32_t sum)
{
    char           want[96];
    int            wlen;
    unsigned long  count;
    unsigned int   file_sum;

    wlen = snprintf(want, sizeof(want), NGX_EXA_STATE_END "%zu names, "
                    "checksum %08x", n, (unsigned) sum);

    if ((size_t) wlen == len && memcmp(p, want, len) == 0) {
        return NGX_EXA_STATE_OK;
    }

    /* tell which: a count of other names, or another checksum */

    if (len < sizeof(want)) {
        memcpy(want, p, len);
        want[len] = '\0';

        if (sscanf(want, NGX_EXA_STATE_END "%lu names, checksum %8x", &count,
                   &file_sum) == 2
            && count != n)
        {
            return NGX_EXA_STATE_COUNT;
        }
    }

    return NGX_EXA_STATE_CHECKSUM;
}


/*
 * Reads a state file: key() is called for each key, but the file is good
 * only if this returns NGX_EXA_STATE_OK: a caller keeps the keys then
 * only.  *line tells where a problem was.
 */

int
ngx_exa_state_parse(const unsigned char *p, size_t size,
    ngx_exa_state_key_pt key, void *data, size_t *line)
{
    int                   rc;
    size_t                n, klen, tlen;
    uint32_t              sum;
    const unsigned char  *last, *eol, *q;
    unsigned char         buf[NGX_EXA_KEY_MAX], norm[NGX_EXA_KEY_MAX];

    last = p + size;
    *line = 1;

    eol = memchr(p, '\n', size);
    if (eol == NULL) {
        return ngx_exa_state_header(p, size) == NGX_EXA_STATE_NOT_STATE
               ? NGX_EXA_STATE_NOT_STATE : NGX_EXA_STATE_TRUNCATED;
    }

    rc = ngx_exa_state_header(p, eol - p);
    if (rc != NGX_EXA_STATE_OK) {
        return rc;
    }

    sum = 2166136261u;
    n = 0;

    for (p = eol + 1; p < last; p = eol + 1) {
        (*line)++;

        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            return NGX_EXA_STATE_TRUNCATED;
        }

        if (*p == '#') {
            rc = ngx_exa_state_end(p, eol - p, n, sum);

            if (rc == NGX_EXA_STATE_OK && eol + 1 != last) {
                return NGX_EXA_STATE_AFTER_END;
            }

            return rc;
        }

        for (q = p; q <= eol; q++) {
            sum = (sum ^ *q) * 16777619u;
        }

        /* a key reads back as exactly the key that was written */

        if (p == eol
            || ngx_exa_state_unescape(p, eol - p, buf, &klen) != 0
            || ngx_exa_name_entry(buf, klen, norm, &tlen) != NGX_EXA_NAME_OK
            || tlen != klen || memcmp(norm, buf, klen) != 0
            || key(data, buf, klen) != 0)
        {
            return NGX_EXA_STATE_BAD_LINE;
        }

        n++;
    }

    return NGX_EXA_STATE_TRUNCATED;
}


const char *
ngx_exa_state_strerror(int rc)
{
    switch (rc) {
    case NGX_EXA_STATE_OK:
        return "ok";
    case NGX_EXA_STATE_TRUNCATED:
        return "truncated";
    case NGX_EXA_STATE_NOT_STATE:
        return "not a state file";
    case NGX_EXA_STATE_VERSION_OLD:
        return "written by an older version, without an end line to check "
               "it by";
    case NGX_EXA_STATE_BAD_LINE:
        return "a line that is not a name";
    case NGX_EXA_STATE_COUNT:
        return "its end line counts other names";
    case NGX_EXA_STATE_CHECKSUM:
        return "its checksum does not match";
    default:
        return "data after its end line";
    }
}
