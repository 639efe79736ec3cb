/*
 * The state file's format, by property: any list written and read back is
 * the same list (names that start with "#", have "%", a domain, UTF-8);
 * no shorter file reads as a list; a changed byte never reads as another
 * list.
 */

#include <stdint.h>

#include "unit.h"
#include "ngx_exa_state.h"
#include "ngx_exa_name.h"


#define NKEYS  64


typedef struct {
    ngx_exa_str_t   keys[4 * NKEYS];
    unsigned char   bytes[4 * NKEYS][NGX_EXA_KEY_MAX];
    size_t          n;
} got_t;


static uint32_t  seed = 12345;


static uint32_t
rnd(void)
{
    seed = seed * 1103515245 + 12345;
    return seed >> 8;
}


static int
keep(void *data, const unsigned char *key, size_t len)
{
    got_t  *g = data;

    if (g->n == 4 * NKEYS) {
        return -1;
    }

    memcpy(g->bytes[g->n], key, len);
    g->keys[g->n].data = g->bytes[g->n];
    g->keys[g->n].len = len;
    g->n++;

    return 0;
}


static int
same(const ngx_exa_str_t *a, size_t na, const got_t *g)
{
    size_t  i;

    if (na != g->n) {
        return 0;
    }

    for (i = 0; i < na; i++) {
        if (a[i].len != g->keys[i].len
            || memcmp(a[i].data, g->keys[i].data, a[i].len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


/* a random name the list can hold: random bytes through the list's parser */

static size_t
random_key(unsigned char *key)
{
    size_t      i, len, klen;
    unsigned char  in[40];
    static const char  *pick[] = {
        "#", "%", "%25", "\\", "@", " ", "\t", "\x7f", "\xc3\xa9", "a", "Z",
        "0", "-", ".", "_", "~", "!", "$", "&", "'", "(", ")", "{", "}"
    };

    for ( ;; ) {
        len = 0;

        for (i = rnd() % 8 + 1; i > 0; i--) {
            const char  *s = pick[rnd() % (sizeof(pick) / sizeof(pick[0]))];

            if (len + strlen(s) > sizeof(in)) {
                break;
            }

            memcpy(in + len, s, strlen(s));
            len += strlen(s);
        }

        if (rnd() % 3 == 0 && len + 8 < sizeof(in)) {
            memmove(in + 8, in, len);
            memcpy(in, "EXAMPLE\\", 8);
            len += 8;
        }

        if (ngx_exa_name_entry(in, len, key, &klen) == NGX_EXA_NAME_OK) {
            return klen;
        }
    }
}


static void
round_trip(void)
{
    int            trip;
    size_t         i, n, line, cut, size;
    got_t          got;
    ngx_exa_str_t  keys[NKEYS];
    unsigned char  kb[NKEYS][NGX_EXA_KEY_MAX], *file, *end;
    int            bad_trips, bad_cuts, bad_flips;

    bad_trips = bad_cuts = bad_flips = 0;

    for (trip = 0; trip < 500; trip++) {
        n = rnd() % NKEYS;

        for (i = 0; i < n; i++) {
            keys[i].len = random_key(kb[i]);
            keys[i].data = kb[i];
        }

        if (trip == 0) {
            n = 4;
            keys[0].data = (unsigned char *) "#alice"; keys[0].len = 6;
            keys[1].data = (unsigned char *) "%41"; keys[1].len = 3;
            keys[2].data = (unsigned char *) "example\\bob"; keys[2].len = 11;
            keys[3].data = (unsigned char *) "carol@example.com";
            keys[3].len = 17;
        }

        size = ngx_exa_state_size(6, keys, n);
        file = malloc(size);
        end = ngx_exa_state_write(file, (unsigned char *) "re\"m#", 5, keys,
                                  n);

        if ((size_t) (end - file) > size) {
            bad_trips++;
        }

        got.n = 0;

        if (ngx_exa_state_parse(file, end - file, keep, &got, &line)
            != NGX_EXA_STATE_OK
            || !same(keys, n, &got))
        {
            bad_trips++;
        }

        /* any shorter file is not a list */

        for (cut = 0; cut < (size_t) (end - file); cut++) {
            got.n = 0;

            if (ngx_exa_state_parse(file, cut, keep, &got, &line)
                == NGX_EXA_STATE_OK)
            {
                bad_cuts++;
            }
        }

        /* a changed byte: not a list, or the same list */

        for (i = 0; i < 16; i++) {
            size_t         at = rnd() % (end - file);
            unsigned char  was = file[at];

            file[at] ^= 1 << (rnd() % 8);
            got.n = 0;

            if (ngx_exa_state_parse(file, end - file, keep, &got, &line)
                == NGX_EXA_STATE_OK
                && !same(keys, n, &got))
            {
                bad_flips++;
            }

            file[at] = was;
        }

        free(file);
    }

    CHECK(bad_trips == 0, "%d lists did not read back as written",
          bad_trips);
    CHECK(bad_cuts == 0, "%d shorter files read as a list", bad_cuts);
    CHECK(bad_flips == 0, "%d changed files read as another list",
          bad_flips);
}


static void
errors(void)
{
    size_t         line;
    got_t          got;
    const char    *f;

    f = "# exchange_access_list remote state, one name a line\nalice\n";
    got.n = 0;
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_VERSION_OLD,
          "version 1");

    f = "alice\nbob\n";
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_NOT_STATE,
          "no header");

    f = "# exchange_access_list \"r\" state, version 2\nalice\nbad name\n"
        "# end, 2 names, checksum 00000000\n";
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_BAD_LINE && line == 3,
          "a bad line: %zu", line);

    f = "# exchange_access_list \"r\" state, version 2\nalice\n"
        "# end, 2 names, checksum 00000000\n";
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_COUNT,
          "a count");

    f = "# exchange_access_list \"r\" state, version 2\n%2";
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_TRUNCATED,
          "truncated in a line");

    f = "# exchange_access_list \"r\" state, version 2\n%61lice\n"
        "# end, 1 names, checksum 00000000\n";
    CHECK(ngx_exa_state_parse((unsigned char *) f, strlen(f), keep, &got,
                              &line) == NGX_EXA_STATE_BAD_LINE,
          "an escape of what needs none");
}


int
main(void)
{
    round_trip();
    errors();

    UNIT_DONE("test_state");
}
