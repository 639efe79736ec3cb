/*
 * Writes seeds for fuzz_ldap_refresh: whole conversations of a directory
 * (walk, chain, ranges, paging), each preceded by the configuration byte.
 *
 *   ./seed_ldap_refresh corpus/ldap_refresh
 */

#include <stdio.h>
#include <stdlib.h>

#include "../t/unit/ldap_wire.h"


#define G1  "cn=remote,ou=groups,dc=example,dc=com"
#define G2  "cn=nested,ou=groups,dc=example,dc=com"
#define U(n)  "uid=" n ",ou=people,dc=example,dc=com"


static void
save(const char *dir, const char *name, unsigned char conf, wire_t *w)
{
    FILE  *f;
    char   path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }

    fputc(conf, f);
    fwrite(w->in, 1, w->len, f);
    fclose(f);

    w->len = 0;
}


int
main(int argc, char **argv)
{
    wire_t       w;
    const char  *g1[] = { "member", U("alice"), G2, NULL,
                          "primaryGroupToken", "1105", NULL, NULL };
    const char  *g2[] = { "member;range=0-1", U("carol"), G1, NULL, NULL };
    const char  *g3[] = { "member;range=2-*", U("dave"), NULL, NULL };
    const char  *alice[] = { "sAMAccountName", "alice", NULL,
                             "userPrincipalName", "alice@example.com", NULL,
                             NULL };
    const char  *carol[] = { "sAMAccountName", "carol", NULL, NULL };

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 1;
    }

    w.in = malloc(WIRE_MAX);
    w.len = 0;

    /* walk (2): groups, G1 (3), G2 in ranges (4, 5), users in pages */

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, G1, (const char *[]) { NULL });
    wire_entry(&w, 2, G2, (const char *[]) { NULL });
    wire_page_done(&w, 2, "");
    wire_entry(&w, 3, G1, g1);
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, G2, g2);
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 5, G2, g3);
    wire_result(&w, 5, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_reference(&w, 6, "ldap://dc2/dc=example,dc=com");
    wire_entry(&w, 6, U("alice"), alice);
    wire_page_done(&w, 6, "1");
    wire_entry(&w, 7, U("carol"), carol);
    wire_page_done(&w, 7, "");
    save(argv[1], "walk", 2, &w);

    /* chain (0): G1 (2), users (3) */

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, G1, g1);
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 3, U("alice"), alice);
    wire_entry(&w, 3, U("carol"), carol);
    wire_page_done(&w, 3, "");
    save(argv[1], "chain", 0, &w);

    /* StartTLS (1), then the bind (2) and chain again */

    wire_result(&w, 1, LDAP_RES_EXTENDED, 0, "");
    wire_result(&w, 2, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 3, G1, g1);
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, U("alice"), alice);
    wire_page_done(&w, 4, "");
    save(argv[1], "starttls", 0x08, &w);

    /* Active Directory (4): the root DSE (2), the crossRefs (3), chain */

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, "", (const char *[]) { "configurationNamingContext",
                                             "CN=Configuration,DC=example,"
                                             "DC=com", NULL, NULL });
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 3, "CN=EXAMPLE,CN=Partitions,CN=Configuration",
               (const char *[]) { "nETBIOSName", "EXAMPLE", NULL,
                                  "nCName", "DC=example,DC=com", NULL, NULL });
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, G1, g1);
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 5, U("alice"), alice);
    wire_page_done(&w, 5, "");
    save(argv[1], "domains", 0x04, &w);

    /* watches (3): the USN, a change, its mark; contextCSN; timestamps */

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, "", (const char *[]) { "highestCommittedUSN", "100",
                                             NULL, NULL });
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, G1, (const char *[]) { "uSNChanged", "105", NULL,
                                             "whenChanged",
                                             "20261128201500.0Z", NULL,
                                             NULL });
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 5, "", (const char *[]) { "highestCommittedUSN", "106",
                                             NULL, NULL });
    wire_result(&w, 5, LDAP_RES_SEARCH_RESULT, 0, "");
    save(argv[1], "watch_usn", 0x03, &w);

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, "", (const char *[]) { NULL });
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 3, "dc=example,dc=com", (const char *[]) {
               "contextCSN", "20261128201500.000001Z#000000#000#000000",
               NULL, NULL });
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, "dc=example,dc=com", (const char *[]) {
               "contextCSN", "20261128201501.000001Z#000000#000#000000",
               NULL, NULL });
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    save(argv[1], "watch_csn", 0x03, &w);

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, "", (const char *[]) { NULL });
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, G1, (const char *[]) { "modifyTimestamp",
                                             "20261128201500Z", NULL, NULL });
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_result(&w, 5, LDAP_RES_SEARCH_RESULT, 4, "");
    save(argv[1], "watch_modified", 0x03, &w);

    /*
     * a delta (0x82: walk, both groups): the groups (2), remote (3) with a
     * new member, dave, other (4); dave read alone (5), then carol (6),
     * changed
     */

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_entry(&w, 2, G1, (const char *[]) { NULL });
    wire_entry(&w, 2, "cn=other,ou=groups,dc=example,dc=com",
               (const char *[]) { NULL });
    wire_page_done(&w, 2, "");
    wire_entry(&w, 3, G1, (const char *[]) { "member", U("alice"), U("bob"),
                                             U("dave"), NULL, NULL });
    wire_result(&w, 3, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 4, "cn=other,ou=groups,dc=example,dc=com",
               (const char *[]) { "member", U("carol"), NULL, NULL });
    wire_result(&w, 4, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 5, U("dave"), (const char *[]) {
               "sAMAccountName", "dave", NULL, "objectClass", "person", NULL,
               NULL });
    wire_result(&w, 5, LDAP_RES_SEARCH_RESULT, 0, "");
    wire_entry(&w, 6, U("carol"), carol);
    wire_result(&w, 6, LDAP_RES_SEARCH_RESULT, 0, "");
    save(argv[1], "delta", 0x82, &w);

    /* failures: a refused bind, a missing group */

    wire_result(&w, 1, LDAP_RES_BIND, 49, "80090308: LdapErr");
    save(argv[1], "bind", 0, &w);

    wire_result(&w, 1, LDAP_RES_BIND, 0, "");
    wire_result(&w, 2, LDAP_RES_SEARCH_RESULT, 32, "no such object");
    save(argv[1], "nogroup", 0, &w);

    free(w.in);

    return 0;
}
