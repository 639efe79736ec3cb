
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <string.h>

#include "ngx_exa_regex.h"


#define NGX_EXA_TOK_LITERAL   0
#define NGX_EXA_TOK_QUANT     1
#define NGX_EXA_TOK_OTHER     2
#define NGX_EXA_TOK_CARET     3
#define NGX_EXA_TOK_DOLLAR    4


typedef struct {
    int                    kind;
    unsigned char          c;
} ngx_exa_tok_t;


static unsigned char
ngx_exa_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


static int
ngx_exa_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
           || (c >= 'a' && c <= 'z');
}


/*
 * The escapes that stand for one character of a kind, or assert
 * something, and take no argument: read as a token that is no literal.
 * Every other letter or digit after "\" (\x, \o, octal, back references,
 * \c, \p, \k, \g, \N, \Q, \E, \n, ...) reads more or means something the
 * prefilter does not model: the pattern is given up.
 */

static int
ngx_exa_simple_escape(unsigned char c)
{
    return c != '\0' && strchr("dDwWsShHvVbBAzZGKRX", c) != NULL;
}


/*
 * A character class from its "[" to its "]": the length, or 0 when it
 * holds what the prefilter does not read (an escape with an argument,
 * "[=" or "[." collating elements, a missing "]").
 */

static size_t
ngx_exa_class(const unsigned char *p, size_t len)
{
    size_t  i;

    i = 1;

    if (i < len && p[i] == '^') {
        i++;
    }

    if (i < len && p[i] == ']') {
        i++;                         /* a "]" first is a literal */
    }

    while (i < len) {

        switch (p[i]) {

        case ']':
            return i + 1;

        case '\\':
            if (i + 1 == len
                || (ngx_exa_alnum(p[i + 1]) && !ngx_exa_simple_escape(p[i + 1]))
                || p[i + 1] >= 0x80)
            {
                return 0;
            }

            i += 2;
            continue;

        case '[':
            if (i + 1 < len && (p[i + 1] == '.' || p[i + 1] == '=')) {
                return 0;
            }

            if (i + 1 < len && p[i + 1] == ':') {
                for (i += 2; i + 1 < len; i++) {
                    if (p[i] == ':' && p[i + 1] == ']') {
                        break;
                    }

                    if (!ngx_exa_alnum(p[i])) {
                        return 0;
                    }
                }

                if (i + 1 >= len) {
                    return 0;
                }

                i += 2;
                continue;
            }

            break;
        }

        if (p[i] >= 0x80) {
            return 0;
        }

        i++;
    }

    return 0;
}


/*
 * The opening of a group: "(", "(?:", "(?=", "(?!", "(?<=", "(?<!",
 * "(?<name>", "(?P<name>"; the length, or 0 for anything else after "(?"
 * or "(*" (inline options, verbs, comments, conditions, recursion, atomic
 * groups, branch reset, callouts): the pattern is given up.
 */

static size_t
ngx_exa_group(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len < 2 || (p[1] != '?' && p[1] != '*')) {
        return 1;
    }

    if (p[1] == '*' || len < 3) {
        return 0;
    }

    switch (p[2]) {

    case ':':
    case '=':
    case '!':
        return 3;

    case '<':
        if (len > 3 && (p[3] == '=' || p[3] == '!')) {
            return 4;
        }

        i = 3;
        break;

    case 'P':
        if (len < 4 || p[3] != '<') {
            return 0;
        }

        i = 4;
        break;

    default:
        return 0;
    }

    /* a name: a letter or "_" first, then letters, digits, "_" */

    if (i >= len || !(ngx_exa_alnum(p[i]) || p[i] == '_')
        || (p[i] >= '0' && p[i] <= '9'))
    {
        return 0;
    }

    for ( /* void */ ; i < len; i++) {
        if (p[i] == '>') {
            return i + 1;
        }

        if (!(ngx_exa_alnum(p[i]) || p[i] == '_')) {
            return 0;
        }
    }

    return 0;
}


/*
 * Reads the pattern as a row of tokens: literal characters (plain, or a
 * punctuation character escaped), quantifiers, "^", "$", and anything
 * else as a token of its own (a class, a group's opening, a simple
 * escape).  Returns the number of tokens, or 0 when the pattern holds
 * anything the prefilter does not fully understand: an alternation, an
 * inline option or verb, an escape with an argument, "\Q", a control or
 * non-ASCII byte.  Giving up only costs a pcre2_match(); misreading would
 * skip a rule that matches.
 */

static size_t
ngx_exa_tokens(const unsigned char *p, size_t len, ngx_exa_tok_t *tok,
    size_t max)
{
    size_t         i, n, k;
    unsigned char  c;

    n = 0;

    for (i = 0; i < len; i++) {

        if (n == max) {
            return 0;
        }

        c = p[i];

        if (c >= 0x7f || c < 0x20 || c == '|') {
            return 0;
        }

        switch (c) {

        case '\\':
            if (i + 1 == len || p[i + 1] >= 0x7f || p[i + 1] < 0x20) {
                return 0;
            }

            c = p[++i];

            if (ngx_exa_alnum(c)) {
                if (!ngx_exa_simple_escape(c)) {
                    return 0;
                }

                tok[n].kind = NGX_EXA_TOK_OTHER;

            } else {
                tok[n].kind = NGX_EXA_TOK_LITERAL;
            }

            tok[n++].c = c;
            continue;

        case '[':
            k = ngx_exa_class(p + i, len - i);

            if (k == 0) {
                return 0;
            }

            i += k - 1;
            tok[n].kind = NGX_EXA_TOK_OTHER;
            break;

        case '(':
            k = ngx_exa_group(p + i, len - i);

            if (k == 0) {
                return 0;
            }

            i += k - 1;
            tok[n].kind = NGX_EXA_TOK_OTHER;
            break;

        case '*': case '+': case '?': case '{':
            tok[n].kind = NGX_EXA_TOK_QUANT;
            break;

        case ')': case ']': case '}': case '.':
            tok[n].kind = NGX_EXA_TOK_OTHER;
            break;

        case '^':
            tok[n].kind = NGX_EXA_TOK_CARET;
            break;

        case '$':
            tok[n].kind = NGX_EXA_TOK_DOLLAR;
            break;

        default:
            tok[n].kind = NGX_EXA_TOK_LITERAL;
        }

        tok[n++].c = c;
    }

    return n;
}


void
ngx_exa_regex_literals(const unsigned char *pattern, size_t len,
    int caseless, ngx_exa_literals_t *lit)
{
    size_t          i, j, n, k;
    ngx_exa_tok_t   tok[512];

    memset(lit, 0, sizeof(ngx_exa_literals_t));
    lit->caseless = caseless;

    n = ngx_exa_tokens(pattern, len, tok, sizeof(tok) / sizeof(tok[0]));

    if (n == 0) {
        return;
    }

    /* "^" then literals, the last of which is not quantified */

    if (tok[0].kind == NGX_EXA_TOK_CARET) {
        for (i = 1; i < n && tok[i].kind == NGX_EXA_TOK_LITERAL; i++) {
            /* void */
        }

        if (i < n && tok[i].kind == NGX_EXA_TOK_QUANT) {
            i--;
        }

        for (j = 1, k = 0; j < i && k < NGX_EXA_LITERAL_MAX; j++) {
            lit->prefix[k++] = caseless ? ngx_exa_lower(tok[j].c) : tok[j].c;
        }

        lit->prefix_len = k;
    }

    /* literals then a final "$" (which in PCRE may precede one "\n") */

    if (n >= 2 && tok[n - 1].kind == NGX_EXA_TOK_DOLLAR) {
        for (i = n - 1; i > 0 && tok[i - 1].kind == NGX_EXA_TOK_LITERAL; i--) {
            /* void */
        }

        /* a literal right after "^" that the scan above took is fine */

        k = n - 1 - i;

        if (k > NGX_EXA_LITERAL_MAX) {
            i = n - 1 - NGX_EXA_LITERAL_MAX;
            k = NGX_EXA_LITERAL_MAX;
        }

        for (j = 0; j < k; j++) {
            lit->suffix[j] = caseless ? ngx_exa_lower(tok[i + j].c)
                                      : tok[i + j].c;
        }

        lit->suffix_len = k;
    }
}


static int
ngx_exa_literal_eq(const unsigned char *s, const unsigned char *lit,
    size_t len, int caseless)
{
    size_t  i;

    if (!caseless) {
        return memcmp(s, lit, len) == 0;
    }

    for (i = 0; i < len; i++) {
        if (ngx_exa_lower(s[i]) != lit[i]) {
            return 0;
        }
    }

    return 1;
}


int
ngx_exa_literals_may_match(const ngx_exa_literals_t *lit,
    const unsigned char *s, size_t len)
{
    unsigned char  c;

    /* most subjects differ from the prefix at once: no call for them */

    if (lit->prefix_len) {
        if (len < lit->prefix_len) {
            return 0;
        }

        c = lit->caseless ? ngx_exa_lower(s[0]) : s[0];

        if (c != lit->prefix[0]
            || !ngx_exa_literal_eq(s + 1, lit->prefix + 1,
                                   lit->prefix_len - 1, lit->caseless))
        {
            return 0;
        }
    }

    if (lit->suffix_len) {

        /* "$" also matches before a final newline */

        if (len && s[len - 1] == '\n') {
            len--;
        }

        if (len < lit->suffix_len
            || !ngx_exa_literal_eq(s + len - lit->suffix_len, lit->suffix,
                                   lit->suffix_len, lit->caseless))
        {
            return 0;
        }
    }

    return 1;
}


/* the bytes of two rows of a list of n rules: ngx_exa_rules_init()'s mem */

size_t
ngx_exa_rules_size(size_t n)
{
    return 2 * NGX_EXA_RULES_ROWS * ((n + 63) / 64) * sizeof(uint64_t);
}


void
ngx_exa_rules_init(ngx_exa_rules_t *rules, void *mem, size_t n)
{
    rules->words = (n + 63) / 64;
    rules->first = mem;
    rules->second = rules->first + NGX_EXA_RULES_ROWS * rules->words;

    memset(mem, 0, ngx_exa_rules_size(n));
}


/*
 * Rule i of the list: its bit in the row of every byte its prefix lets
 * through at that place, and in the row of "no byte" where its prefix
 * ends before; what ngx_exa_literals_may_match() compares, folded alike.
 */

void
ngx_exa_rules_add(ngx_exa_rules_t *rules, size_t i,
    const ngx_exa_literals_t *lit)
{
    size_t         b, j, w;
    uint64_t       bit, *row;
    unsigned char  c;

    w = i / 64;
    bit = (uint64_t) 1 << (i % 64);

    for (j = 0; j < 2; j++) {
        row = (j == 0) ? rules->first : rules->second;

        for (b = 0; b < NGX_EXA_RULES_ROWS; b++) {

            if (lit->prefix_len > j) {
                if (b == 256) {
                    continue;
                }

                c = lit->caseless ? ngx_exa_lower((unsigned char) b)
                                  : (unsigned char) b;

                if (c != lit->prefix[j]) {
                    continue;
                }
            }

            row[b * rules->words + w] |= bit;
        }
    }
}


#if !defined(__GNUC__)

size_t
ngx_exa_rules_lowest(uint64_t bits)
{
    size_t  n;

    for (n = 0; (bits & 1) == 0; n++) {
        bits >>= 1;
    }

    return n;
}

#endif
