
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


/*
 * How IIS reads a path before it picks a virtual directory: percent
 * decoding (and ASP.NET's form decoding), the normalisation it still
 * takes for the same path, the virtual directory a segment names, and
 * comparisons without case.  No nginx dependency.
 */


#include <string.h>

#include "ngx_exa_classify_int.h"


static int ngx_exa_hex(unsigned char c);
static int ngx_exa_hex4(const unsigned char *p);
static void ngx_exa_decoded_trick(unsigned char c, unsigned *tricks);


static const ngx_exa_vdir_t  ngx_exa_vdirs[] = {
    ngx_exa_vd("mapi", NGX_EXA_PROTO_MAPI),
    ngx_exa_vd("rpc", NGX_EXA_PROTO_RPC),
    ngx_exa_vd("rpcwithcert", NGX_EXA_PROTO_RPC),
    ngx_exa_vd("ews", NGX_EXA_PROTO_EWS),
    ngx_exa_vd("api", NGX_EXA_PROTO_EWS),
    ngx_exa_vd("microsoft-server-activesync", NGX_EXA_PROTO_EAS),
    ngx_exa_vd("owa", NGX_EXA_PROTO_OWA),
    ngx_exa_vd("ecp", NGX_EXA_PROTO_ECP),
    ngx_exa_vd("oab", NGX_EXA_PROTO_OAB),
    ngx_exa_vd("autodiscover", NGX_EXA_PROTO_AUTODISCOVER),
    ngx_exa_vd("powershell", NGX_EXA_PROTO_POWERSHELL),
    { NULL, 0, 0 }
};


static int
ngx_exa_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
ngx_exa_hex4(const unsigned char *p)
{
    int  i, h, u;

    u = 0;

    for (i = 0; i < 4; i++) {
        h = ngx_exa_hex(p[i]);

        if (h < 0) {
            return -1;
        }

        u = u * 16 + h;
    }

    return u;
}


static void
ngx_exa_decoded_trick(unsigned char c, unsigned *tricks)
{
    switch (c) {
    case '/':
    case '\\':
        *tricks |= NGX_EXA_T_ENC_SEP;
        break;
    case '.':
        *tricks |= NGX_EXA_T_ENC_DOT;
        break;
    case '\0':
        *tricks |= NGX_EXA_T_NUL;
        break;
    }
}


/*
 * Percent-decodes once, as IIS does before it picks a virtual directory.
 * With form set (query strings, form bodies, cookies), "+" is a space and
 * ASP.NET's "%uXXXX" is decoded too; the output is never longer than the
 * input.
 */

size_t
ngx_exa_decode(unsigned char *dst, const unsigned char *src, size_t len,
    int form, unsigned *tricks)
{
    int            h, l, u;
    size_t         i, n;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c == '+' && form) {
            c = ' ';

        } else if (c == '%' && form && i + 5 < len
                   && (src[i + 1] | 0x20) == 'u'
                   && (u = ngx_exa_hex4(src + i + 2)) >= 0)
        {
            /* ASP.NET's %uXXXX, as UTF-8; surrogates are broken */

            i += 5;

            if (u >= 0xd800 && u <= 0xdfff) {
                *tricks |= NGX_EXA_T_BAD;
                dst[n++] = '?';
                continue;
            }

            if (u >= 0x80) {
                if (u >= 0x800) {
                    dst[n++] = (unsigned char) (0xe0 | (u >> 12));
                    dst[n++] = (unsigned char) (0x80 | ((u >> 6) & 0x3f));

                } else {
                    dst[n++] = (unsigned char) (0xc0 | (u >> 6));
                }

                dst[n++] = (unsigned char) (0x80 | (u & 0x3f));
                continue;
            }

            c = (unsigned char) u;
            ngx_exa_decoded_trick(c, tricks);

        } else if (c == '%') {
            h = (i + 2 < len) ? ngx_exa_hex(src[i + 1]) : -1;
            l = (i + 2 < len) ? ngx_exa_hex(src[i + 2]) : -1;

            if (h < 0 || l < 0) {
                *tricks |= NGX_EXA_T_BAD;

            } else {
                c = (unsigned char) (h * 16 + l);
                i += 2;

                ngx_exa_decoded_trick(c, tricks);
            }
        }

        dst[n++] = c;
    }

    for (i = 0; i + 2 < n; i++) {
        if (dst[i] == '%' && ngx_exa_hex(dst[i + 1]) >= 0
            && ngx_exa_hex(dst[i + 2]) >= 0)
        {
            *tricks |= NGX_EXA_T_DOUBLE;
            break;
        }
    }

    return n;
}


/*
 * Normalises a decoded path in place the way IIS would still treat as the
 * same path: "\" is "/", slashes merge, "." and ".." segments resolve.
 */

size_t
ngx_exa_normalise(unsigned char *p, size_t len, unsigned *tricks)
{
    size_t  i, n, seg;

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '\\') {
            p[i] = '/';
            *tricks |= NGX_EXA_T_BACKSLASH;
        }
    }

    for (i = 0; i < len; i++) {

        if (p[i] == '/') {
            if (n > 0 && p[n - 1] == '/') {
                continue;
            }

            p[n++] = '/';
            continue;
        }

        if (p[i] == '.' && (n == 0 || p[n - 1] == '/')) {

            /* "." or ".." as a whole segment */

            seg = (i + 1 < len && p[i + 1] == '.') ? 2 : 1;

            if (i + seg == len || p[i + seg] == '/') {
                if (seg == 2 && n > 1) {
                    /* drop the previous segment, keep its leading slash */
                    n--;
                    while (n > 0 && p[n - 1] != '/') {
                        n--;
                    }
                }

                i += seg;

                if (n == 0) {
                    p[n++] = '/';
                }

                continue;
            }
        }

        p[n++] = p[i];
    }

    return n;
}


/*
 * The virtual directory a path segment names, as a case-insensitive
 * Windows would see it: ASCII letters in any case, trailing dots and
 * blanks ignored, and the characters whose upper case is an ASCII letter
 * (U+0131 dotless i, U+0130, U+017F long s, U+212A Kelvin sign) folded.
 * *folded tells that anything but the case had to be forgiven.
 */

int
ngx_exa_vdir(const unsigned char *s, size_t len, unsigned *folded)
{
    size_t                 i, n;
    unsigned char          c;
    const ngx_exa_vdir_t  *v;
    unsigned char          buf[NGX_EXA_SEGMENT_MAX];

    n = 0;

    for (i = 0; i < len; i++) {

        if (n == NGX_EXA_SEGMENT_MAX) {
            return NGX_EXA_PROTO_OTHER;
        }

        c = s[i];

        if (c < 0x80) {
            buf[n++] = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
            continue;
        }

        if (c == 0xc4 && i + 1 < len && (s[i + 1] == 0xb1 || s[i + 1] == 0xb0))
        {
            buf[n++] = 'i';
            i++;

        } else if (c == 0xc5 && i + 1 < len && s[i + 1] == 0xbf) {
            buf[n++] = 's';
            i++;

        } else if (c == 0xe2 && i + 2 < len && s[i + 1] == 0x84
                   && s[i + 2] == 0xaa)
        {
            buf[n++] = 'k';
            i += 2;

        } else {
            return NGX_EXA_PROTO_OTHER;
        }

        *folded = 1;
    }

    while (n > 0 && (buf[n - 1] == '.' || buf[n - 1] == ' ')) {
        n--;
        *folded = 1;
    }

    for (v = ngx_exa_vdirs; v->name; v++) {
        if (v->len == n && memcmp(buf, v->name, n) == 0) {
            return v->protocol;
        }
    }

    return NGX_EXA_PROTO_OTHER;
}


/* the next segment of a path at p, which points at a "/" */

const unsigned char *
ngx_exa_segment(const unsigned char *p, const unsigned char *last,
    size_t *len)
{
    const unsigned char  *s;

    while (p < last && *p == '/') {
        p++;
    }

    s = p;

    while (p < last && *p != '/' && *p != '?') {
        p++;
    }

    *len = p - s;

    return s;
}


int
ngx_exa_classify_path(const unsigned char *path, size_t len,
    unsigned *folded)
{
    size_t                n;
    const unsigned char  *s;

    *folded = 0;

    if (len == 0 || path[0] != '/') {
        return NGX_EXA_PROTO_OTHER;
    }

    s = ngx_exa_segment(path, path + len, &n);

    return ngx_exa_vdir(s, n, folded);
}


int
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
 * A naive search, O(hlen * nlen): only ever called with a short constant
 * needle ("powershell", "..", a routing cookie's name), which keeps it
 * linear in the request.  Addresses from the request are searched with
 * ngx_exa_kmp() and ngx_exa_remove().
 */

const unsigned char *
ngx_exa_casefind(const unsigned char *h, size_t hlen, const unsigned char *n,
    size_t nlen)
{
    size_t         i, j;
    unsigned char  a, b;

    if (nlen == 0 || nlen > hlen) {
        return NULL;
    }

    for (i = 0; i + nlen <= hlen; i++) {
        for (j = 0; j < nlen; j++) {
            a = h[i + j];
            b = n[j];
            a = (a >= 'A' && a <= 'Z') ? (a | 0x20) : a;
            b = (b >= 'A' && b <= 'Z') ? (b | 0x20) : b;

            if (a != b) {
                break;
            }
        }

        if (j == nlen) {
            return h + i;
        }
    }

    return NULL;
}


/*
 * The fast path of plain requests (ngx_exa_classify_fast()).  A byte of a
 * plain path is one of: 1, a letter, digit, "-" or "_" (what a virtual
 * directory's name is made of); 2, "/"; 4, "."; 5, other punctuation
 * that neither IIS's decoding and normalisation nor Exchange's explicit
 * logon read ("!$&'()*,:=~"); 0, anything else ("%", "\", "@", "?", ";",
 * "+", blanks, controls, non-ASCII): not plain.  The odd ones need no
 * look at the byte before them.
 */

static const unsigned char  ngx_exa_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
 /*    !  "  #  $  %  &  '  (  )  *  +  ,  -  .  / */
    0, 5, 0, 0, 5, 0, 5, 5, 5, 5, 5, 0, 5, 1, 4, 2,
 /* 0  1  2  3  4  5  6  7  8  9  :  ;  <  =  >  ? */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 0, 0, 5, 0, 0,
 /* @  A  ...                                      */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
 /* P  ...                     Z  [  \  ]  ^  _    */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
 /* `  a  ...                                      */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
 /* p  ...                     z  {  |  }  ~       */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 5, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


/*
 * Whether IIS's decoding and normalisation leave a path as it is and
 * Exchange finds no explicit logon in it: a "/" first, then plain bytes,
 * no "//", no segment that starts with "." and no "..".  *first is the
 * length of its first segment when that has only letters, digits, "-"
 * and "_", or NGX_EXA_NO_VDIR when it has other plain bytes but does not
 * end with "." (it names no virtual directory, folded or not).  One pass,
 * no copy.
 */

int
ngx_exa_path_plain(const unsigned char *p, size_t len, size_t *first)
{
    if (len <= NGX_EXA_SHORT_PATH && ngx_exa_path_short(p, len, first)) {
        return 1;
    }

    return ngx_exa_path_scan(p, len, first);
}


/*
 * The common path, 8 to 32 bytes of letters, digits, "-", "_", "/" and
 * ".", checked 16 bytes at a time: no "//", no "/." and no "..".  What
 * ngx_exa_path_scan() would say of it is then known: plain, and its first
 * segment is a name of letters, digits, "-" and "_" up to a "/" or the
 * end, or else (it holds a ".") no virtual directory's, unless it ends
 * with ".".  0 for anything else, for ngx_exa_path_scan() to decide
 * (test_classify.c and fuzz_classify.c compare the two).
 */

#if (defined __SSE2__)

#include <emmintrin.h>

/*
 * Of 16 bytes at b + 1: the bits of name bytes (letters, digits, "-",
 * "_"), of "/", and of what is neither those nor "." or follows a "/" or
 * a "." as "//", "/." or ".." do
 */

static inline uint32_t
ngx_exa_path_block(const unsigned char *b, uint32_t *name, uint32_t *slash)
{
    uint32_t  dot, after;
    __m128i   c, prev, m;

    c = _mm_loadu_si128((const __m128i *) (b + 1));
    prev = _mm_loadu_si128((const __m128i *) b);

    m = _mm_sub_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)),
                     _mm_set1_epi8((char) ('a' + 128)));
    m = _mm_cmplt_epi8(m, _mm_set1_epi8(26 - 128));
    m = _mm_or_si128(m, _mm_cmplt_epi8(_mm_sub_epi8(c,
                                           _mm_set1_epi8((char) ('0' + 128))),
                                       _mm_set1_epi8(10 - 128)));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(c, _mm_set1_epi8('-')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(c, _mm_set1_epi8('_')));

    *name = (uint32_t) _mm_movemask_epi8(m);
    *slash = (uint32_t) _mm_movemask_epi8(_mm_cmpeq_epi8(c,
                                                  _mm_set1_epi8('/')));
    dot = (uint32_t) _mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('.')));

    m = _mm_or_si128(_mm_cmpeq_epi8(prev, _mm_set1_epi8('/')),
                     _mm_and_si128(_mm_cmpeq_epi8(prev, _mm_set1_epi8('.')),
                                   _mm_cmpeq_epi8(c, _mm_set1_epi8('.'))));
    after = (uint32_t) _mm_movemask_epi8(m);

    return ~(*name | *slash | dot) | (after & ~*name);
}


int
ngx_exa_path_short(const unsigned char *p, size_t len, size_t *first)
{
    size_t         i;
    uint32_t       bad, name, slash, in, n2, s2;
    unsigned char  b[1 + NGX_EXA_SHORT_PATH];

    if (len < 8 || len > NGX_EXA_SHORT_PATH || p[0] != '/') {
        return 0;
    }

    /*
     * a letter before the path: neither "/" nor "."; the bytes after it
     * are not looked at (below, "in")
     */

    b[0] = 'a';

    if (len <= 16) {
        memcpy(b + 1, p, 8);
        memcpy(b + 1 + len - 8, p + len - 8, 8);

        bad = ngx_exa_path_block(b, &name, &slash);

    } else {
        memcpy(b + 1, p, 16);
        memcpy(b + 1 + len - 16, p + len - 16, 16);

        bad = ngx_exa_path_block(b, &name, &slash);
        bad |= ngx_exa_path_block(b + 16, &n2, &s2) << 16;
        name |= n2 << 16;
        slash |= s2 << 16;
    }

    in = (len == 32) ? 0xffffffff : (1u << len) - 1;

    if (bad & in) {
        return 0;
    }

    /* the first segment: name bytes after the "/", then "/" or the end */

    i = __builtin_ctz(~((name & in) >> 1));

    if (i + 1 >= len || (slash >> (i + 1) & 1)) {
        *first = i;
        return 1;
    }

    /* a "." in the first segment: it names no directory, unless at its end */

    for (i++; i < len && p[i] != '/'; i++) {
        /* void */
    }

    if (p[i - 1] == '.') {
        return 0;
    }

    *first = NGX_EXA_NO_VDIR;

    return 1;
}

#else

int
ngx_exa_path_short(const unsigned char *p, size_t len, size_t *first)
{
    return 0;
}

#endif


int
ngx_exa_path_scan(const unsigned char *p, size_t len, size_t *first)
{
    size_t    i;
    unsigned  k;

    if (len == 0 || p[0] != '/') {
        return 0;
    }

    /* the first segment: a virtual directory's name, or other plain bytes */

    for (i = 1; i < len && ngx_exa_plain[p[i]] == 1; i++) {
        /* void */
    }

    *first = i - 1;

    if (i < len && p[i] != '/') {

        for ( /* void */ ; i < len && p[i] != '/'; i++) {
            k = ngx_exa_plain[p[i]];

            if (k == 0
                || (k == 4 && (p[i - 1] == '/' || p[i - 1] == '.')))
            {
                return 0;
            }
        }

        /* a name that ends with "." is a folded form of another one */

        if (p[i - 1] == '.') {
            return 0;
        }

        *first = NGX_EXA_NO_VDIR;

    } else if (i == 1 && len > 1) {
        return 0;                         /* "//" */
    }

    /* the rest: no "//", no segment that starts with ".", no ".." */

    for (i++; i < len; i++) {
        k = ngx_exa_plain[p[i]];

        if (k & 1) {
            continue;
        }

        if (k == 0 || p[i - 1] == '/' || (k == 4 && p[i - 1] == '.')) {
            return 0;
        }
    }

    return 1;
}


/*
 * The virtual directory a segment of letters, digits, "-" and "_" names
 * (ngx_exa_path_plain() said so): nothing to fold but the case, and "|"
 * 0x20 folds these bytes as ngx_exa_vdir() does ("_" becomes DEL, which
 * no name has).
 */

#define ngx_exa_l3(s)                                                        \
    ((uint32_t) ((s)[0] | 0x20) << 16 | (uint32_t) ((s)[1] | 0x20) << 8      \
     | (uint32_t) ((s)[2] | 0x20))
#define ngx_exa_c3(a, b, c)                                                  \
    ((uint32_t) (a) << 16 | (uint32_t) (b) << 8 | (uint32_t) (c))

int
ngx_exa_vdir_plain(const unsigned char *s, size_t len)
{
    const ngx_exa_vdir_t  *v;

    switch (len) {

    case 3:
        switch (ngx_exa_l3(s)) {
        case ngx_exa_c3('r', 'p', 'c'):
            return NGX_EXA_PROTO_RPC;
        case ngx_exa_c3('e', 'w', 's'):
        case ngx_exa_c3('a', 'p', 'i'):
            return NGX_EXA_PROTO_EWS;
        case ngx_exa_c3('o', 'w', 'a'):
            return NGX_EXA_PROTO_OWA;
        case ngx_exa_c3('e', 'c', 'p'):
            return NGX_EXA_PROTO_ECP;
        case ngx_exa_c3('o', 'a', 'b'):
            return NGX_EXA_PROTO_OAB;
        }

        return NGX_EXA_PROTO_OTHER;

    case 4:
        return (ngx_exa_l3(s) == ngx_exa_c3('m', 'a', 'p')
                && (s[3] | 0x20) == 'i')
               ? NGX_EXA_PROTO_MAPI : NGX_EXA_PROTO_OTHER;

    case 10:
    case 11:
    case 12:
    case 27:
        for (v = ngx_exa_vdirs; v->name; v++) {
            if (v->len == len && ngx_exa_caseeq(s, v->name, len)) {
                return v->protocol;
            }
        }
    }

    return NGX_EXA_PROTO_OTHER;
}
