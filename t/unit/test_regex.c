/*
 * The literal prefilter of regular expression rules: what it extracts, and
 * that it never refuses a subject PCRE2 matches (checked against PCRE2 on
 * a table of patterns and many generated subjects).
 */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "unit.h"
#include "ngx_exa_regex.h"


static int  refusals;


static void
lits(const char *p, int caseless, const char *prefix, const char *suffix)
{
    ngx_exa_literals_t  l;

    ngx_exa_regex_literals((const unsigned char *) p, strlen(p), caseless,
                           &l);

    CHECK(l.prefix_len == strlen(prefix)
          && memcmp(l.prefix, prefix, l.prefix_len) == 0,
          "%s: prefix \"%.*s\", want \"%s\"", p, (int) l.prefix_len,
          l.prefix, prefix);
    CHECK(l.suffix_len == strlen(suffix)
          && memcmp(l.suffix, suffix, l.suffix_len) == 0,
          "%s: suffix \"%.*s\", want \"%s\"", p, (int) l.suffix_len,
          l.suffix, suffix);
}


static const char  *patterns[] = {
    "^/custom-outlook/", "^/lb-rpc/", "^/a.b/", "^/ab?c", "^/a{0}", "^a*",
    "^(?<u>[^@]+)@corp\\.example$", "^(.+)@corp\\.example$", "^(.+)-admin$",
    "^legacy\\\\(.+)$", "^never-1-(.*)$", "x$", "ab*$", "a{2}$", "a\\$$",
    "^[abc]x", "[ab]$", "^/x|^/y", "(?i)^/abc", "^/abc(?i:d)", "^\\Qa.b\\E",
    "^\\d+/x$", "^/(mapi|rpc)/", "^/mapi/?$", "^/", "$", "^$", "^/x\\/y",
    "^\\.well-known", "(?<=a)b$", "^/m(?=a)api", "^/x/(.*)$", "abc",
    "^/a+b", "^/a\\+b", "^/a[b]c$", "c\\n$", 0
};


static const char  *subjects[] = {
    "/custom-outlook/", "/Custom-Outlook/emsmdb", "/lb-rpc/x", "/LB-RPC/",
    "/a.b/", "/axb/", "/ac", "/abc", "/a", "", "a", "aaa",
    "alice@corp.example", "alice@CORP.EXAMPLE", "alice@corp.example\n",
    "bob-admin", "legacy\\alice", "LEGACY\\alice", "never-1-x", "x", "ax",
    "abbb", "aa", "a$", "ax", "bx", "b", "/x", "/y", "/abc", "/ABC",
    "/abcd", "/abcD", "a.b", "12/x", "/mapi/", "/rpc/", "/mapi", "/",
    "/x/y", ".well-known", ".WELL-known", "ab", "b", "/mapi", "/x/", "abc",
    "/aab", "/a+b", "/abc", "c\n", "c\n\n", "/mapi/\n", 0
};


/*
 * The index of rules (ngx_exa_rules_t) lets a subject through to a rule
 * as the reference below, from the first two bytes alone; and what it
 * does not let through, neither ngx_exa_literals_may_match() nor PCRE2
 * does
 */

static unsigned char
fold(const ngx_exa_literals_t *l, unsigned char c)
{
    return (l->caseless && c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


static int
candidate(const ngx_exa_literals_t *l, const unsigned char *subj, size_t len)
{
    if (l->prefix_len == 0) {
        return 1;
    }

    if (len < 1 || fold(l, subj[0]) != l->prefix[0]) {
        return 0;
    }

    return l->prefix_len == 1
           || (len >= 2 && fold(l, subj[1]) == l->prefix[1]);
}


static void
refused(const ngx_exa_literals_t *l, const unsigned char *subj, size_t len,
    int matched, const char *pat)
{
    size_t           next;
    uint64_t         mem[2 * NGX_EXA_RULES_ROWS];
    ngx_exa_rules_t  rs;

    CHECK(ngx_exa_rules_size(1) == sizeof(mem), "%s: size %zu", pat,
          ngx_exa_rules_size(1));

    ngx_exa_rules_init(&rs, mem, 1);
    ngx_exa_rules_add(&rs, 0, l);

    next = ngx_exa_rules_next(&rs, subj, len, 0);

    CHECK(next == (candidate(l, subj, len) ? 0 : NGX_EXA_RULES_END),
          "\"%s\": \"%.*s\" next %zu, reference %d", pat, (int) len,
          (const char *) subj, next, candidate(l, subj, len));

    CHECK(ngx_exa_rules_next(&rs, subj, len, 1) == NGX_EXA_RULES_END,
          "\"%s\": a rule after the only one", pat);

    if (next == 0) {
        return;
    }

    refusals++;

    CHECK(!matched && !ngx_exa_literals_may_match(l, subj, len),
          "\"%s\": \"%.*s\" refused before the call, but %s", pat,
          (int) len, (const char *) subj,
          matched ? "PCRE2 matches it" : "the prefilter lets it through");
}


static void
against_pcre(const char *pat, int caseless)
{
    int                   err, rc;
    const char          **s;
    PCRE2_SIZE            off;
    pcre2_code           *re;
    pcre2_match_data     *md;
    ngx_exa_literals_t    l;

    re = pcre2_compile((PCRE2_SPTR) pat, PCRE2_ZERO_TERMINATED,
                       caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
    if (re == NULL) {
        return;
    }

    md = pcre2_match_data_create_from_pattern(re, NULL);
    ngx_exa_regex_literals((const unsigned char *) pat, strlen(pat),
                           caseless, &l);

    for (s = subjects; *s; s++) {
        rc = pcre2_match(re, (PCRE2_SPTR) *s, strlen(*s), 0, 0, md, NULL);

        refused(&l, (const unsigned char *) *s, strlen(*s), rc >= 0, pat);

        if (rc >= 0) {
            CHECK(ngx_exa_literals_may_match(&l, (const unsigned char *) *s,
                                             strlen(*s)),
                  "\"%s\"%s matches \"%s\" but the prefilter refuses it",
                  pat, caseless ? " (caseless)" : "", *s);
        }
    }

    pcre2_match_data_free(md);
    pcre2_code_free(re);
}


/*
 * Generated patterns with every kind of escape and construct PCRE2 knows,
 * checked against every subject of up to three characters over an
 * alphabet those constructs match: the prefilter may refuse a subject
 * only if PCRE2 refuses it too.
 */

static const char  *pieces[] = {
    /* literals and escaped punctuation */
    "M", "a", "m", "/", "\\/", "\\.", "\\\\", "\\$", "\\^", "\\-", "\\ ",
    "\\{", "\\}", "\\[", "\\]", "\\(", "\\)", "\\*", "\\+", "\\?", "\\|",
    /* escapes that read an argument */
    "\\x4D", "\\x4d", "\\x{4d}", "\\x6D", "\\x2f", "\\115", "\\0115",
    "\\o{115}", "\\7", "\\1", "\\g1", "\\g{-1}", "\\k<n>", "\\k{n}",
    "\\cM", "\\cJ", "\\p{Lu}", "\\P{Lu}", "\\pL", "\\p{Ll}", "\\N",
    "\\N{U+4D}", "\\Q", "\\E", "\\QM\\E", "\\Qa$\\E", "\\n", "\\r", "\\t",
    "\\e", "\\a", "\\f", "\\0",
    /* escapes of a kind, and assertions */
    "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\h", "\\v", "\\R", "\\X",
    "\\b", "\\B", "\\A", "\\z", "\\Z", "\\G", "\\K",
    /* classes */
    "[M]", "[^a]", "[]M]", "[\\x4d]", "[[:upper:]]", "[M-N]", "[\\d/]",
    "[\\]]", "[a$]", "[^]a]",
    /* groups, options, verbs */
    "(", ")", "(?:", "(?<n>", "(?P<n>", "(?'n'", "(?=", "(?!", "(?<=",
    "(?<!", "(?>", "(?|", "(?#c)", "(?i)", "(?-i)", "(?x)", "(?s)", "(?m)",
    "(?U)", "(?J)", "(?i:", "(?(1)", "(?1)", "(?R)", "(?P=n)", "(*UTF)",
    "(*UCP)", "(*CR)", "(*LF)", "(*CRLF)", "(*ANYCRLF)", "(*ANY)",
    "(*FAIL)", "(*ACCEPT)",
    /* quantifiers, anchors, alternation */
    "*", "+", "?", "*?", "++", "{2}", "{1,}", "{,2}", "{0}", "{a}", "^",
    "$", "|", ".", "#", " ",
    NULL
};

static const char   alphabet2[] = "aMm/\n\r";


static void
generated(void)
{
    int                 i, j, k, n, caseless, npieces, err, rc;
    char                pat[256], subj[4];
    size_t              plen, slen, l0, l1, l2, na;
    PCRE2_SIZE          off;
    pcre2_code         *re;
    pcre2_match_data   *md;
    ngx_exa_literals_t  l;
    int                 compiled, filtered;

    for (npieces = 0; pieces[npieces]; npieces++) {
        /* void */
    }

    na = sizeof(alphabet2) - 1;
    compiled = 0;
    filtered = 0;

    srand(7);

    for (i = 0; i < 40000; i++) {
        plen = 0;
        k = 1 + rand() % 5;

        if (rand() % 3) {
            pat[plen++] = '^';
        }

        for (j = 0; j < k; j++) {
            n = rand() % npieces;
            plen += snprintf(pat + plen, sizeof(pat) - plen, "%s", pieces[n]);
        }

        if (rand() % 3) {
            pat[plen++] = '$';
        }

        pat[plen] = '\0';
        caseless = rand() & 1;

        re = pcre2_compile((PCRE2_SPTR) pat, plen,
                           caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
        if (re == NULL) {
            continue;
        }

        compiled++;
        md = pcre2_match_data_create_from_pattern(re, NULL);
        ngx_exa_regex_literals((const unsigned char *) pat, plen, caseless,
                               &l);

        if (l.prefix_len || l.suffix_len) {
            filtered++;
        }

        /* every subject of up to three characters of the alphabet */

        for (slen = 0; slen <= 3; slen++) {
            for (l0 = 0; l0 < (slen > 0 ? na : 1); l0++) {
                for (l1 = 0; l1 < (slen > 1 ? na : 1); l1++) {
                    for (l2 = 0; l2 < (slen > 2 ? na : 1); l2++) {
                        subj[0] = alphabet2[l0];
                        subj[1] = alphabet2[l1];
                        subj[2] = alphabet2[l2];

                        rc = pcre2_match(re, (PCRE2_SPTR) subj, slen, 0, 0,
                                         md, NULL);

                        refused(&l, (const unsigned char *) subj, slen,
                                rc >= 0, pat);

                        if (rc >= 0) {
                            CHECK(ngx_exa_literals_may_match(&l,
                                      (const unsigned char *) subj, slen),
                                  "\"%s\"%s matches \"%.*s\" but the "
                                  "prefilter refuses it", pat,
                                  caseless ? " (caseless)" : "", (int) slen,
                                  subj);
                        }
                    }
                }
            }
        }

        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }

    printf("test_regex: %d generated patterns compiled, %d with literals\n",
           compiled, filtered);
}


/*
 * Lists of rules: the first rule the index and the prefilter let through
 * that PCRE2 matches is the first rule of the list PCRE2 matches, trying
 * every rule.  Lists of up to 150 rules (three words of a row), drawn
 * from prefixes that share their first bytes, caseless or not, the
 * patterns above and pieces of every kind; every subject of up to three
 * characters over an alphabet they share, and longer ones.
 */

#define RULES_MAX  150

static const char  *heads[] = {
    "^/m", "^/M", "^/ma", "^/mapi/", "^/n", "^/never-", "^a", "^A", "^aa",
    "^aM", "^m/", "^M/", "^\\", "^/\\", "^/", "^", "^a$", "^/mapi$",
    "^/a.", "^.", "^/[m]", "^/m?", "^m*", "^/m+", "^/(m)", "^/(?:a)",
    "^\\/m", "^\n", "a$", "/$", "m", "", 0
};

static int          list_subjects, list_matched, list_left_out;
static const char   alphabet3[] = "aAmM/\\\n";


static void
rule_list(int n, pcre2_match_data *md)
{
    int                  i, k, rc, first, c, caseless[RULES_MAX], err, nr;
    int                  matched[RULES_MAX];
    char                 pat[128], subj[16];
    size_t               slen, next, prev, l0, l1, l2, na, nh, np;
    uint64_t             mem[2 * NGX_EXA_RULES_ROWS * 3];
    PCRE2_SIZE           off;
    pcre2_code          *re[RULES_MAX];
    ngx_exa_rules_t      rs;
    ngx_exa_literals_t   l[RULES_MAX];
    const char          *sp;

    for (nh = 0; heads[nh]; nh++) { /* void */ }
    for (np = 0; pieces[np]; np++) { /* void */ }
    na = sizeof(alphabet3) - 1;

    nr = 0;

    while (nr < n) {
        k = rand() % 4;

        if (k == 0) {
            sp = patterns[rand() % (sizeof(patterns) / sizeof(patterns[0])
                                    - 1)];
            snprintf(pat, sizeof(pat), "%s", sp);

        } else {
            snprintf(pat, sizeof(pat), "%s%s%s", heads[rand() % nh],
                     k == 1 ? pieces[rand() % np] : "",
                     k == 2 ? "(.*)$" : "");
        }

        caseless[nr] = rand() & 1;

        re[nr] = pcre2_compile((PCRE2_SPTR) pat, PCRE2_ZERO_TERMINATED,
                               caseless[nr] ? PCRE2_CASELESS : 0, &err, &off,
                               NULL);
        if (re[nr] == NULL) {
            continue;
        }

        ngx_exa_regex_literals((const unsigned char *) pat, strlen(pat),
                               caseless[nr], &l[nr]);
        nr++;
    }

    CHECK(ngx_exa_rules_size(nr) <= sizeof(mem), "%d rules: size %zu", nr,
          ngx_exa_rules_size(nr));

    ngx_exa_rules_init(&rs, mem, nr);

    for (i = 0; i < nr; i++) {
        ngx_exa_rules_add(&rs, i, &l[i]);
    }

    for (c = 0; c < 400 + 64; c++) {

        if (c < 400) {
            /* every subject of up to three characters, some of them */
            slen = c % 4;
            l0 = rand() % na;
            l1 = rand() % na;
            l2 = rand() % na;
            subj[0] = alphabet3[l0];
            subj[1] = alphabet3[l1];
            subj[2] = alphabet3[l2];

        } else {
            slen = rand() % sizeof(subj);
            for (k = 0; k < (int) slen; k++) {
                subj[k] = "/aAmMpi\\ne-r.$1@x\n"[rand() % 19];
            }
        }

        /* trying every rule */

        first = -1;

        for (i = 0; i < nr; i++) {
            rc = pcre2_match(re[i], (PCRE2_SPTR) subj, slen, 0, 0, md, NULL);

            /* an error ("(?R)" that recurses forever) is no match here */

            matched[i] = (rc >= 0);

            if (matched[i] && first < 0) {
                first = i;
            }
        }

        /* the rules the index lets through: in order, as the reference */

        prev = 0;
        k = -1;

        for (next = ngx_exa_rules_next(&rs, (const unsigned char *) subj,
                                       slen, 0);
             next != NGX_EXA_RULES_END;
             next = ngx_exa_rules_next(&rs, (const unsigned char *) subj,
                                       slen, next + 1))
        {
            CHECK(next < (size_t) nr && next >= prev, "next %zu of %d",
                  next, nr);

            if (next >= (size_t) nr || next < prev) {
                break;
            }

            for ( /* void */ ; prev < next; prev++) {
                list_left_out++;
                CHECK(!candidate(&l[prev], (const unsigned char *) subj,
                                 slen) && !matched[prev],
                      "rule %zu of %d left out for \"%.*s\"%s", prev, nr,
                      (int) slen, subj,
                      matched[prev] ? ", which PCRE2 matches" : "");
            }

            CHECK(candidate(&l[next], (const unsigned char *) subj, slen),
                  "rule %zu of %d let through for \"%.*s\"", next, nr,
                  (int) slen, subj);

            prev = next + 1;

            if (k < 0 && matched[next]
                && ngx_exa_literals_may_match(&l[next],
                                              (const unsigned char *) subj,
                                              slen))
            {
                k = next;
            }
        }

        for ( /* void */ ; prev < (size_t) nr; prev++) {
            list_left_out++;
            CHECK(!candidate(&l[prev], (const unsigned char *) subj, slen)
                  && !matched[prev],
                  "rule %zu of %d left out at the end for \"%.*s\"%s",
                  prev, nr, (int) slen, subj,
                  matched[prev] ? ", which PCRE2 matches" : "");
        }

        CHECK(k == first, "%d rules, \"%.*s\": rule %d found, PCRE2's "
              "first %d", nr, (int) slen, subj, k, first);

        list_subjects++;
        list_matched += (first >= 0);
    }

    for (i = 0; i < nr; i++) {
        pcre2_code_free(re[i]);
    }
}


static void
rule_lists(void)
{
    int                i, n;
    pcre2_code        *re;
    pcre2_match_data  *md;
    PCRE2_SIZE         off;
    int                err;

    /* match data large enough for any of the patterns */

    re = pcre2_compile((PCRE2_SPTR) "((((((((((x))))))))))", 21, 0, &err,
                       &off, NULL);
    md = pcre2_match_data_create(64, NULL);
    pcre2_code_free(re);

    srand(11);

    for (i = 0; i < 600; i++) {
        n = (i % 3 == 0) ? 1 + rand() % 8
            : (i % 3 == 1) ? 60 + rand() % 10 : 1 + rand() % RULES_MAX;
        rule_list(n, md);
    }

    pcre2_match_data_free(md);

    printf("test_regex: %d lists of rules against PCRE2, %d subjects, "
           "%d matched, %d rules left out by the index\n", i,
           list_subjects, list_matched, list_left_out);
}


int
main(void)
{
    int           i, j, k;
    const char  **p;
    char          pat[64], subj[64];
    const char    alphabet[] = "ab/.$^*+?()[]|\\x-";
    ngx_exa_literals_t  l;

    lits("^/custom-outlook/", 0, "/custom-outlook/", "");
    lits("^/custom-outlook/", 1, "/custom-outlook/", "");
    lits("^/Custom/", 1, "/custom/", "");
    lits("^(?<u>[^@]+)@corp\\.example$", 0, "", "@corp.example");
    lits("^/ab?c", 0, "/a", "");
    lits("^/a{0}", 0, "/", "");
    lits("^a*", 0, "", "");
    lits("ab*$", 0, "", "");
    lits("a\\$$", 0, "", "a$");
    lits("^/x|^/y", 0, "", "");
    lits("(?i)^/abc", 0, "", "");
    lits("^/abc$", 0, "/abc", "/abc");
    lits("^[abc]x", 0, "", "");
    lits("^\\d+/x$", 0, "", "/x");
    lits("^never-1-(.*)$", 0, "never-1-", "");

    /* escapes with an argument: the prefilter gives up */
    lits("^/lb2/\\x4Dapi$", 0, "", "");
    lits("^/lb2/\\115api$", 0, "", "");
    lits("^/lb2/\\o{115}api$", 1, "", "");
    lits("^/a\\cMb$", 0, "", "");
    lits("^/\\p{Lu}api$", 0, "", "");
    lits("^(?<x>a)\\k<x>b$", 0, "", "");
    lits("^\\Qa.b\\E$", 0, "", "");
    lits("^/a\\Qb$", 0, "", "");
    lits("(*UTF)^/k$", 1, "", "");
    lits("(*CR)x$", 0, "", "");
    lits("(?x)^/a b$", 0, "", "");
    lits("^/a\\nb$", 0, "", "");

    /* what it still reads */
    lits("^(?<u>[^@\\]]+)@corp\\.example$", 0, "", "@corp.example");
    lits("^/lb/[[:alpha:]]+/x$", 0, "/lb/", "/x");
    lits("^/x(?:a)b$", 0, "/x", "b");
    lits("^/\\d+/x$", 0, "/", "/x");

    /* the issue's rule: "\x4D" is "M" */
    {
        const char  *p = "^/lb2/\\x4Dapi$";
        ngx_exa_literals_t  m;

        ngx_exa_regex_literals((const unsigned char *) p, strlen(p), 0, &m);
        CHECK(ngx_exa_literals_may_match(&m, (const unsigned char *)
                                         "/lb2/Mapi", 9),
              "%s must let /lb2/Mapi through", p);
    }

    generated();
    rule_lists();

    /* the prefilter lets through every subject PCRE2 matches */

    for (p = patterns; *p; p++) {
        against_pcre(*p, 0);
        against_pcre(*p, 1);
    }

    /* and for generated patterns and subjects */

    srand(1);

    for (i = 0; i < 20000; i++) {
        k = 1 + rand() % 8;
        for (j = 0; j < k; j++) {
            pat[j] = alphabet[rand() % (sizeof(alphabet) - 1)];
        }
        pat[k] = '\0';

        against_pcre(pat, rand() & 1);
    }

    /* random subjects against the fixed patterns */

    for (i = 0; i < 20000; i++) {
        pcre2_code        *re;
        pcre2_match_data  *md;
        PCRE2_SIZE         off;
        int                err, caseless;

        p = &patterns[rand() % (sizeof(patterns) / sizeof(patterns[0]) - 1)];
        caseless = rand() & 1;
        k = rand() % 12;
        for (j = 0; j < k; j++) {
            subj[j] = "/aAbBcC.-@x\\\n$"[rand() % 14];
        }
        subj[k] = '\0';

        re = pcre2_compile((PCRE2_SPTR) *p, PCRE2_ZERO_TERMINATED,
                           caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
        if (re == NULL) {
            continue;
        }

        md = pcre2_match_data_create_from_pattern(re, NULL);
        ngx_exa_regex_literals((const unsigned char *) *p, strlen(*p),
                               caseless, &l);

        refused(&l, (const unsigned char *) subj, k,
                pcre2_match(re, (PCRE2_SPTR) subj, k, 0, 0, md, NULL) >= 0,
                *p);

        if (pcre2_match(re, (PCRE2_SPTR) subj, k, 0, 0, md, NULL) >= 0) {
            CHECK(ngx_exa_literals_may_match(&l, (const unsigned char *) subj,
                                             k),
                  "\"%s\" matches \"%s\" but the prefilter refuses it",
                  *p, subj);
        }

        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }

    printf("test_regex: %d subjects refused before the call\n", refusals);

    UNIT_DONE("test_regex");
}
