/*
 * Helpers of the LDAP source: ranged attribute names as Active Directory
 * sends them, DN normalisation, filter escaping and checking.
 */

#include "unit.h"
#include "ngx_exa_ldap.h"


static int
range(const char *attr, ngx_exa_range_t *r)
{
    return ngx_exa_ldap_range(attr, "member", r);
}


static int
norm_eq(const char *a, const char *b)
{
    size_t         na, nb;
    unsigned char  x[512], y[512];

    na = ngx_exa_ldap_dn_norm((const unsigned char *) a, strlen(a), x);
    nb = ngx_exa_ldap_dn_norm((const unsigned char *) b, strlen(b), y);

    return na == nb && memcmp(x, y, na) == 0;
}


static int
filter(const char *f)
{
    return ngx_exa_ldap_filter_valid((const unsigned char *) f, strlen(f));
}


int
main(void)
{
    size_t           n;
    ngx_exa_range_t  r;
    unsigned char    out[256];

    /* what AD answers to "member" on a group over MaxValRange */
    CHECK(range("member;range=0-1499", &r) == 1 && r.start == 0
          && r.end == 1499 && !r.last, "first range");
    CHECK(range("member;range=1500-2999", &r) == 1 && r.start == 1500
          && r.end == 2999 && !r.last, "middle range");
    CHECK(range("member;range=3000-*", &r) == 1 && r.start == 3000 && r.last,
          "last range");
    CHECK(range("Member;Range=0-*", &r) == 1 && r.last, "any case");
    CHECK(range("member", &r) == 0 && r.last, "plain");
    CHECK(range("memberOf", &r) == -1, "another attribute");
    CHECK(range("member;range=", &r) == -1, "empty range");
    CHECK(range("member;range=5-3", &r) == -1, "end before start");
    CHECK(range("member;range=0-1499x", &r) == -1, "trailing junk");
    CHECK(range("member;range=-1-*", &r) == -1, "negative");
    CHECK(range("member;range=0-99999999999999999999", &r) == -1,
          "overflow");
    CHECK(range("member;binary", &r) == -1, "another option");

    /* the same entry, written by the directory in two places */
    CHECK(norm_eq("CN=Alice Allowed,OU=People,DC=example,DC=com",
                  "cn=alice allowed,ou=people,dc=example,dc=com"), "case");
    CHECK(norm_eq("cn=a, ou=b ,dc=c", "cn=a,ou=b,dc=c"), "blanks");
    CHECK(norm_eq("cn = a,dc=c", "cn=a,dc=c"), "blanks around =");
    CHECK(!norm_eq("cn=a\\,b,dc=c", "cn=a,b,dc=c"), "escaped comma");
    CHECK(!norm_eq("cn=a b,dc=c", "cn=ab,dc=c"), "inner blank kept");
    CHECK(norm_eq("cn=x\\ ,dc=c", "cn=x\\ ,dc=c"), "escaped trailing blank");

    /* RFC 4515 escaping */
    n = ngx_exa_ldap_escape((const unsigned char *) "CN=a*(b)\\c", 10, out);
    CHECK(n == 18 && memcmp(out, "CN=a\\2a\\28b\\29\\5cc", 18) == 0,
          "escaped \"%.*s\"", (int) n, out);
    n = ngx_exa_ldap_escape((const unsigned char *) "a\0b", 3, out);
    CHECK(n == 5 && memcmp(out, "a\\00b", 5) == 0, "NUL");

    /* ldap_filter must be one filter */
    CHECK(filter("(!(userAccountControl:1.2.840.113556.1.4.803:=2))"),
          "AD enabled filter");
    CHECK(filter("(&(a=b)(c=d))"), "and");
    CHECK(filter("(cn=a\\29b)"), "escaped parenthesis");
    CHECK(!filter("(a=b)(c=d)"), "two filters");
    CHECK(!filter("a=b"), "no parentheses");
    CHECK(!filter("(a=b"), "unbalanced");
    CHECK(!filter("(a=b))"), "unbalanced 2");
    CHECK(!filter("()"), "empty");

    UNIT_DONE("test_ldap");
}
