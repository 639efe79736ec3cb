
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ngx_exa_credential.h"


#define NGX_EXA_B64_BAD       0xff


static size_t ngx_exa_base64_length(const unsigned char *src, size_t len,
    int url, size_t *chars);
static int ngx_exa_base64_tail(unsigned char *dst, const unsigned char *src,
    size_t n, const unsigned char *t);


/*
 * The standard alphabet: f(value) for every byte, X for a byte that is
 * not in it.
 */

#define X NGX_EXA_B64_BAD
#define ngx_exa_b64_alphabet(f)                                              \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(62), f(X), f(X), f(X), f(63),                        \
    f(52), f(53), f(54), f(55), f(56), f(57), f(58), f(59),                  \
    f(60), f(61), f(X), f(X), f(X), f(X), f(X), f(X),                        \
    f(X), f(0), f(1), f(2), f(3), f(4), f(5), f(6),                          \
    f(7), f(8), f(9), f(10), f(11), f(12), f(13), f(14),                     \
    f(15), f(16), f(17), f(18), f(19), f(20), f(21), f(22),                  \
    f(23), f(24), f(25), f(X), f(X), f(X), f(X), f(X),                       \
    f(X), f(26), f(27), f(28), f(29), f(30), f(31), f(32),                   \
    f(33), f(34), f(35), f(36), f(37), f(38), f(39), f(40),                  \
    f(41), f(42), f(43), f(44), f(45), f(46), f(47), f(48),                  \
    f(49), f(50), f(51), f(X), f(X), f(X), f(X), f(X),                       \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X),                          \
    f(X), f(X), f(X), f(X), f(X), f(X), f(X), f(X)


#define ngx_exa_b64_value(v)  (v)

static const unsigned char  ngx_exa_b64[256] = {
    ngx_exa_b64_alphabet(ngx_exa_b64_value)
};


/*
 * The value of a character put in place for the k-th character of a
 * quad: the four of a quad OR to the three bytes they decode to, and a
 * character outside the alphabet sets NGX_EXA_B64_QUAD_BAD
 * (ngx_exa_base64_quad() in ngx_exa_credential.h).
 */

#define ngx_exa_b64_placed(v, k)                                             \
    ((v) == X ? NGX_EXA_B64_QUAD_BAD : (uint32_t) (v) << (18 - 6 * (k)))
#define ngx_exa_b64_p0(v)  ngx_exa_b64_placed(v, 0)
#define ngx_exa_b64_p1(v)  ngx_exa_b64_placed(v, 1)
#define ngx_exa_b64_p2(v)  ngx_exa_b64_placed(v, 2)
#define ngx_exa_b64_p3(v)  ngx_exa_b64_placed(v, 3)

const uint32_t  ngx_exa_b64_quads[4][256] = {
    { ngx_exa_b64_alphabet(ngx_exa_b64_p0) },
    { ngx_exa_b64_alphabet(ngx_exa_b64_p1) },
    { ngx_exa_b64_alphabet(ngx_exa_b64_p2) },
    { ngx_exa_b64_alphabet(ngx_exa_b64_p3) }
};

#undef X


static const unsigned char  ngx_exa_b64url[256] = {
#define X NGX_EXA_B64_BAD
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X
#undef X
};


/*
 * The decoded length of a token, and where its characters end: the
 * standard alphabet with "=" padding to a multiple of four, or, with url
 * set, the URL alphabet without padding.  (size_t) -1 when the length or
 * the padding cannot be right; the characters are not looked at.
 */

static size_t
ngx_exa_base64_length(const unsigned char *src, size_t len, int url,
    size_t *chars)
{
    size_t  pad;

    pad = 0;

    if (url) {
        if (len % 4 == 1) {
            return (size_t) -1;
        }

    } else {
        if (len % 4 != 0) {
            return (size_t) -1;
        }

        if (len && src[len - 1] == '=') {
            pad++;

            if (src[len - 2] == '=') {
                pad++;
            }
        }

        len -= pad;
    }

    *chars = len;

    return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}


/*
 * The last one to three characters of a token: the bytes they hold, into
 * dst, or -1 for a bad character or bits left over in the last one.
 */

static int
ngx_exa_base64_tail(unsigned char *dst, const unsigned char *src, size_t n,
    const unsigned char *t)
{
    uint32_t  v0, v1, v2;

    switch (n) {

    case 0:
        return 0;

    case 2:
        v0 = t[src[0]];
        v1 = t[src[1]];

        /* no bad character, and no bits left over in the last one */

        if (((v0 | v1) & 0x80) || (v1 & 0x0f)) {
            return -1;
        }

        dst[0] = (unsigned char) (v0 << 2 | v1 >> 4);
        return 0;

    case 3:
        v0 = t[src[0]];
        v1 = t[src[1]];
        v2 = t[src[2]];

        if (((v0 | v1 | v2) & 0x80) || (v2 & 0x03)) {
            return -1;
        }

        dst[0] = (unsigned char) (v0 << 2 | v1 >> 4);
        dst[1] = (unsigned char) (v1 << 4 | v2 >> 2);
        return 0;

    default:
        return -1;
    }
}


/*
 * Strict base64 (RFC 4648): the standard alphabet with "=" padding to a
 * multiple of four, or, with url set, the URL alphabet without padding.
 * Non-zero bits in the last character, whitespace and misplaced padding
 * are errors.  dst must hold len / 4 * 3 + 3 bytes.  Returns the decoded
 * length, or (size_t) -1 on error.
 */

size_t
ngx_exa_base64_decode(unsigned char *dst, const unsigned char *src,
    size_t len, int url)
{
    size_t                n, chars;
    uint32_t              v, v0, v1, v2, v3;
    const unsigned char  *t, *last;

    n = ngx_exa_base64_length(src, len, url, &chars);

    if (n == (size_t) -1) {
        return n;
    }

    t = url ? ngx_exa_b64url : ngx_exa_b64;
    last = src + chars / 4 * 4;

    /* four characters, three bytes at a time */

    if (url) {
        for ( /* void */ ; src < last; src += 4) {
            v0 = t[src[0]];
            v1 = t[src[1]];
            v2 = t[src[2]];
            v3 = t[src[3]];

            if ((v0 | v1 | v2 | v3) & 0x80) {
                return (size_t) -1;
            }

            v = v0 << 18 | v1 << 12 | v2 << 6 | v3;

            dst[0] = (unsigned char) (v >> 16);
            dst[1] = (unsigned char) (v >> 8);
            dst[2] = (unsigned char) v;
            dst += 3;
        }

    } else {
        for ( /* void */ ; src < last; src += 4) {
            v = ngx_exa_base64_quad(src);

            if (v & NGX_EXA_B64_QUAD_BAD) {
                return (size_t) -1;
            }

            dst[0] = (unsigned char) (v >> 16);
            dst[1] = (unsigned char) (v >> 8);
            dst[2] = (unsigned char) v;
            dst += 3;
        }
    }

    if (ngx_exa_base64_tail(dst, src, chars % 4, t) != 0) {
        return (size_t) -1;
    }

    return n;
}


/*
 * Whether ngx_exa_base64_decode() (standard alphabet) would decode a
 * token, without decoding it: the decoded length, or (size_t) -1; *chars
 * is the number of characters before the padding.  Thirty-two characters
 * at a time where the compiler has vectors for it, the last sixteen again
 * if some are left over: a letter in either case, "/" or a digit, "+".
 * Each range is one signed comparison, the byte moved so that the range
 * starts at -128 ("a" by 256 - 128 - 'a', "/" by 256 - 128 - '/').
 */

#if (defined __GNUC__ && (defined __SSE2__ || defined __ARM_NEON))
#define NGX_EXA_B64_VECTORS  1
typedef unsigned char  ngx_exa_v16_t __attribute__((vector_size(16)));
typedef signed char    ngx_exa_m16_t __attribute__((vector_size(16)));

#define ngx_exa_b64_inside(v)                                                \
    (((ngx_exa_m16_t) (((v) | 0x20) + 31) < -128 + 26)                       \
     | ((ngx_exa_m16_t) ((v) + 81) < -128 + 11)                              \
     | (ngx_exa_m16_t) ((v) == '+'))
#endif


/*
 * On x86-64 built for SSE2 only, a processor with AVX2 checks a token of
 * 64 characters or more 32 at a time in one register, the same three
 * comparisons; ngx_exa_base64_wide is whether it is used: found out on
 * the first call, or set by whoever compares the two ways.
 */

#if (NGX_EXA_B64_VECTORS && defined __x86_64__ && !defined __AVX2__          \
     && (__GNUC__ >= 6 || defined __clang__))
#define NGX_EXA_B64_AVX2  1
typedef unsigned char  ngx_exa_v32_t __attribute__((vector_size(32)));
typedef signed char    ngx_exa_m32_t __attribute__((vector_size(32)));

#define ngx_exa_b64_inside32(v)                                              \
    (((ngx_exa_m32_t) (((v) | 0x20) + 31) < -128 + 26)                       \
     | ((ngx_exa_m32_t) ((v) + 81) < -128 + 11)                              \
     | (ngx_exa_m32_t) ((v) == '+'))

int  ngx_exa_base64_wide = -1;


__attribute__((target("avx2")))
static int
ngx_exa_base64_inside_avx2(const unsigned char *src, size_t c)
{
    size_t         i;
    uint64_t       all[4];
    ngx_exa_v32_t  v, w;
    ngx_exa_m32_t  ok;

    /* c >= 64: the last 64 are read again where c is not a multiple */

    ok = (ngx_exa_m32_t) { 0 } - 1;
    i = 0;

    for ( ;; ) {
        memcpy(&v, src + i, 32);
        memcpy(&w, src + i + 32, 32);
        ok &= ngx_exa_b64_inside32(v) & ngx_exa_b64_inside32(w);

        if (i + 64 >= c) {
            break;
        }

        i += 64;

        if (i + 64 > c) {
            i = c - 64;
        }
    }

    memcpy(all, &ok, 32);

    return (all[0] & all[1] & all[2] & all[3]) == (uint64_t) -1;
}

#else

int  ngx_exa_base64_wide = 0;

#endif


size_t
ngx_exa_base64_check(const unsigned char *src, size_t len, size_t *chars)
{
    size_t                i, n, c;
    unsigned              bad;
    unsigned char         tail[2];
    const unsigned char  *t;
#if (NGX_EXA_B64_VECTORS)
    uint64_t              all[2];
    ngx_exa_v16_t         v, w;
    ngx_exa_m16_t         ok;
#endif

    n = ngx_exa_base64_length(src, len, 0, &c);

    if (n == (size_t) -1) {
        return n;
    }

    *chars = c;
    t = ngx_exa_b64;
    bad = 0;
    i = 0;

#if (NGX_EXA_B64_VECTORS)

#if (NGX_EXA_B64_AVX2)

    if (c >= 64) {

        if (ngx_exa_base64_wide < 0) {
            __builtin_cpu_init();
            ngx_exa_base64_wide = __builtin_cpu_supports("avx2") ? 1 : 0;
        }

        if (ngx_exa_base64_wide) {

            if (!ngx_exa_base64_inside_avx2(src, c)) {
                return (size_t) -1;
            }

            i = c / 4 * 4;
            goto tail;
        }
    }

#endif

    if (c >= 16) {
        ok = (ngx_exa_m16_t) { 0 } - 1;

        for ( /* void */ ; i + 32 <= c; i += 32) {
            memcpy(&v, src + i, 16);
            memcpy(&w, src + i + 16, 16);

            ok &= ngx_exa_b64_inside(v) & ngx_exa_b64_inside(w);
        }

        if (i + 16 <= c) {
            memcpy(&v, src + i, 16);
            ok &= ngx_exa_b64_inside(v);
            i += 16;
        }

        if (i < c) {
            memcpy(&v, src + c - 16, 16);
            ok &= ngx_exa_b64_inside(v);
        }

        memcpy(all, &ok, 16);

        if ((all[0] & all[1]) != (uint64_t) -1) {
            return (size_t) -1;
        }

        /* what is left, the last one to three, for their bits */

        i = c / 4 * 4;
    }

#endif

#if (NGX_EXA_B64_AVX2)
tail:
#endif

    for ( /* void */ ; i + 8 <= c; i += 8) {
        bad |= t[src[i]] | t[src[i + 1]] | t[src[i + 2]] | t[src[i + 3]]
               | t[src[i + 4]] | t[src[i + 5]] | t[src[i + 6]]
               | t[src[i + 7]];
    }

    for ( /* void */ ; i + 4 <= c; i += 4) {
        bad |= t[src[i]] | t[src[i + 1]] | t[src[i + 2]] | t[src[i + 3]];
    }

    if ((bad & 0x80) || ngx_exa_base64_tail(tail, src + i, c - i, t) != 0) {
        return (size_t) -1;
    }

    return n;
}


/*
 * Decodes the bytes from "from" to "to" of a token that
 * ngx_exa_base64_check() took, with chars characters before its padding,
 * to the same places in dst; the quads around them are decoded whole, and
 * nothing is written past the decoded length.
 */

void
ngx_exa_base64_range(unsigned char *dst, const unsigned char *src,
    size_t chars, size_t from, size_t to)
{
    uint32_t              v;
    unsigned char        *d;
    const unsigned char  *p, *last, *end;

    if (from >= to) {
        return;
    }

    p = src + from / 3 * 4;
    last = src + (to + 2) / 3 * 4;
    end = src + chars / 4 * 4;
    d = dst + from / 3 * 3;

    if (last > end) {
        last = end;
    }

    for ( /* void */ ; p < last; p += 4) {
        v = ngx_exa_base64_quad(p);

        d[0] = (unsigned char) (v >> 16);
        d[1] = (unsigned char) (v >> 8);
        d[2] = (unsigned char) v;
        d += 3;
    }

    if (p == end && (to + 2) / 3 * 4 > chars / 4 * 4) {
        (void) ngx_exa_base64_tail(d, p, chars % 4, ngx_exa_b64);
    }
}


/*
 * The start of a token that ngx_exa_base64_decode() (standard alphabet)
 * takes, up to the first "stop" byte of what it decodes to, without the
 * bytes that follow: the quads up to the one that holds that byte are
 * decoded to dst, and the rest of the token is only checked, as
 * ngx_exa_base64_decode() would check it.  Returns the index of the stop
 * byte, or (size_t) -1: the token is not one that ngx_exa_base64_decode()
 * takes, or the stop byte is not in a quad that decodes to three bytes,
 * or not within the first size - 5 bytes (the caller decodes the token
 * whole then).  dst holds size bytes, and is given nothing past the stop
 * byte but zeroes.  *printable tells that the bytes before the stop byte
 * are all printable ASCII (0x20 to 0x7e); it may be 0 when they are.
 *
 * The bytes of two quads are a group of six in a word, the first byte at
 * bit 40; the last quad, when it has none to pair with, is a group of its
 * three bytes and three zeroes, not looked at.  A group is stored as
 * eight bytes, the last two zero.  Where the compiler has vectors, the
 * rest is checked sixteen characters at a time.
 */

#define NGX_EXA_B64_ONES     0x010101010101ULL
#define NGX_EXA_B64_HIGH     0x808080808080ULL
#define NGX_EXA_B64_SIX      0xffffffffffffULL

#if (defined __BYTE_ORDER__ && defined __ORDER_LITTLE_ENDIAN__               \
     && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined __GNUC__)

#define NGX_EXA_B64_LITTLE   1

#define ngx_exa_b64_store(d, w)                                              \
    do {                                                                     \
        uint64_t  b_ = __builtin_bswap64((w) << 16);                         \
        memcpy(d, &b_, 8);                                                   \
    } while (0)

#elif (defined __BYTE_ORDER__ && defined __ORDER_BIG_ENDIAN__                \
       && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

#define ngx_exa_b64_store(d, w)                                              \
    do {                                                                     \
        uint64_t  b_ = (w) << 16;                                            \
        memcpy(d, &b_, 8);                                                   \
    } while (0)

#else

#define ngx_exa_b64_store(d, w)                                              \
    do {                                                                     \
        (d)[0] = (unsigned char) ((w) >> 40);                                \
        (d)[1] = (unsigned char) ((w) >> 32);                                \
        (d)[2] = (unsigned char) ((w) >> 24);                                \
        (d)[3] = (unsigned char) ((w) >> 16);                                \
        (d)[4] = (unsigned char) ((w) >> 8);                                 \
        (d)[5] = (unsigned char) (w);                                        \
        (d)[6] = 0;                                                          \
        (d)[7] = 0;                                                          \
    } while (0)

#endif


#if (NGX_EXA_B64_VECTORS && NGX_EXA_B64_LITTLE)

#define NGX_EXA_B64_VECTOR_PREFIX  1

/* whether sixteen characters are all in the alphabet */

static inline int
ngx_exa_b64_valid16(const unsigned char *p)
{
    uint64_t       all[2];
    ngx_exa_v16_t  v;
    ngx_exa_m16_t  ok;

    memcpy(&v, p, 16);

    ok = (ngx_exa_m16_t) ((ngx_exa_v16_t) ((v | 0x20) - 'a') < 26)
         | (ngx_exa_m16_t) ((ngx_exa_v16_t) (v - '/') < 11)
         | (ngx_exa_m16_t) (v == '+');

    memcpy(all, &ok, 16);

    return (all[0] & all[1]) == (uint64_t) -1;
}


#endif


/*
 * One group: stored at d; the top bits of those of its bytes (of mask m)
 * that are not printable in *g (a borrow or carry into the byte before
 * comes from such a byte), of those that are the stop byte in *z, exactly
 */

#define ngx_exa_b64_group(d, w, m, stop, g, z)                               \
    do {                                                                     \
        uint64_t  x_;                                                        \
                                                                             \
        ngx_exa_b64_store(d, w);                                             \
                                                                             \
        g = (((w - 0x202020202020ULL) & ~(w)) | (w + NGX_EXA_B64_ONES)      \
             | (w)) & (m);                                                   \
                                                                             \
        x_ = (w) ^ (stop * NGX_EXA_B64_ONES);                                \
        z = ~(((x_ & 0x7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7fULL) | x_) & (m);     \
    } while (0)


size_t
ngx_exa_base64_prefix(unsigned char *dst, size_t size,
    const unsigned char *src, size_t len, unsigned char stop,
    int *printable)
{
    size_t                chars, k, n, step;
    uint32_t              v0, v1, bad;
    uint64_t              w, z, g, np, keep;
    unsigned char        *d;
    const unsigned char  *p, *last, *end, *tail, *t;

    *printable = 0;

    if (len % 4 != 0 || len == 0 || size < 11) {
        return (size_t) -1;
    }

    chars = len - (src[len - 1] == '=') - (src[len - 2] == '=');

    /* the quads that decode to three bytes, as many as dst holds */

    last = src + chars / 4 * 4;

    if ((size_t) (last - src) / 4 > (size - 5) / 3) {
        last = src + (size - 5) / 3 * 4;
    }

    np = 0;
    p = src;
    d = dst;
    step = 8;

    for ( /* void */ ; last - p >= 8; p += 8, d += 6) {
        v0 = ngx_exa_base64_quad(p);
        v1 = ngx_exa_base64_quad(p + 4);

        if ((v0 | v1) & NGX_EXA_B64_QUAD_BAD) {
            return (size_t) -1;
        }

        w = (uint64_t) v0 << 24 | v1;
        ngx_exa_b64_group(d, w, NGX_EXA_B64_HIGH, stop, g, z);

        if (z) {
            goto found;
        }

        np |= g;
    }

    if (p < last) {

        /* a quad alone */

        v0 = ngx_exa_base64_quad(p);

        if (v0 & NGX_EXA_B64_QUAD_BAD) {
            return (size_t) -1;
        }

        w = (uint64_t) v0 << 24;
        ngx_exa_b64_group(d, w, NGX_EXA_B64_HIGH & ~0xffffffULL, stop, g, z);

        if (z) {
            step = 4;
            goto found;
        }
    }

    return (size_t) -1;

found:

    /* the first stop byte of the group */

#if (defined __GNUC__)
    k = (size_t) (__builtin_clzll(z) - 16) / 8;
#else
    for (k = 0; !(z & (0x800000000000ULL >> (8 * k))); k++) {
        /* void */
    }
#endif

    n = (size_t) (d - dst) + k;

    /* nothing after the stop byte stays in dst */

    keep = NGX_EXA_B64_SIX >> (40 - 8 * k) << (40 - 8 * k);
    w &= keep;

    ngx_exa_b64_store(d, w);

    /* the bytes before it (k = 0: none) */

    np |= g & (NGX_EXA_B64_SIX >> (48 - 8 * k) << (48 - 8 * k));

    /*
     * the rest: checked, not decoded, up to the last characters after
     * the last whole quad, which leave no bits over
     */

    t = ngx_exa_b64;
    bad = 0;
    p += step;
    end = src + chars;
    tail = end - (chars & 3);

#if (NGX_EXA_B64_VECTOR_PREFIX)

    if (end - src >= 16) {
        for ( /* void */ ; end - p > 16; p += 16) {
            if (!ngx_exa_b64_valid16(p)) {
                return (size_t) -1;
            }
        }

        /* the last sixteen, which may overlap what was checked */

        if (p < end && !ngx_exa_b64_valid16(end - 16)) {
            return (size_t) -1;
        }

        p = tail;
    }

#endif

    for ( /* void */ ; tail - p >= 8; p += 8) {
        bad |= t[p[0]] | t[p[1]] | t[p[2]] | t[p[3]]
               | t[p[4]] | t[p[5]] | t[p[6]] | t[p[7]];
    }

    for ( /* void */ ; p < tail; p += 4) {
        bad |= t[p[0]] | t[p[1]] | t[p[2]] | t[p[3]];
    }

    switch (chars & 3) {

    case 0:
        break;

    case 2:
        bad |= t[p[0]] | t[p[1]] | ((t[p[1]] & 0x0f) ? 0x80 : 0);
        break;

    default: /* 3 */
        bad |= t[p[0]] | t[p[1]] | t[p[2]] | ((t[p[2]] & 0x03) ? 0x80 : 0);
    }

    if (bad & 0x80) {
        return (size_t) -1;
    }

    *printable = ((np & NGX_EXA_B64_HIGH) == 0);

    return n;
}
