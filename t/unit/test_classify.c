/*
 * The protocol classifier: every protocol's real paths, their case,
 * encoding, slash and dot variants, and the path-confusion family.
 */

#include <ctype.h>
#include <time.h>

#include "unit.h"
#include "ngx_exa_classify_int.h"


#define M   NGX_EXA_PROTO_MAPI
#define R   NGX_EXA_PROTO_RPC
#define E   NGX_EXA_PROTO_EWS
#define A   NGX_EXA_PROTO_EAS
#define O   NGX_EXA_PROTO_OWA
#define C   NGX_EXA_PROTO_ECP
#define B   NGX_EXA_PROTO_OAB
#define D   NGX_EXA_PROTO_AUTODISCOVER
#define P   NGX_EXA_PROTO_POWERSHELL
#define X   NGX_EXA_PROTO_OTHER


typedef struct {
    int          protocol;
    int          confused;
    const char  *target;       /* request-target: path and query */
    const char  *cookie;
    int          form;
} tcase;


/* real paths of every protocol, as clients send them */

static const tcase  good[] = {
    { M, 0, "/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com", NULL, 0 },
    { M, 0, "/mapi/nspi/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com", NULL, 0 },
    { M, 0, "/mapi/emsmdb", NULL, 0 },
    { M, 0, "/mapi/healthcheck.htm", NULL, 0 },
    { M, 0, "/mapi", NULL, 0 },
    { R, 0, "/rpc/rpcproxy.dll?mail.contoso.com:6001", NULL, 0 },
    { R, 0, "/rpc/rpcproxy.dll?416c6368-656d-794a-6f45-57615272456e@contoso.com:6004", NULL, 0 },
    { R, 0, "/rpcwithcert/rpcproxy.dll?exch01:6002", NULL, 0 },
    { R, 0, "/rpc/healthcheck.htm", NULL, 0 },
    { E, 0, "/EWS/Exchange.asmx", NULL, 0 },
    { E, 0, "/EWS/Services.wsdl", NULL, 0 },
    { E, 0, "/EWS/mrsproxy.svc", NULL, 0 },
    { E, 0, "/ews/odata/me/messages", NULL, 0 },
    { E, 0, "/api/v2.0/me/messages?$top=10", NULL, 0 },
    { E, 0, "/EWS/Exchange.asmx/s/GetUserPhoto?email=alice@contoso.com&size=HR48x48", NULL, 0 },
    { A, 0, "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=ABC123&DeviceType=iPhone", NULL, 0 },
    { A, 0, "/Microsoft-Server-ActiveSync/default.eas?Cmd=Ping", NULL, 0 },
    { O, 0, "/owa/", NULL, 0 },
    { O, 0, "/owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.contoso.com%2fecp%2f", NULL, 0 },
    { O, 0, "/owa/auth.owa", NULL, 1 },
    { O, 0, "/owa/shared@contoso.com/", NULL, 0 },
    { O, 0, "/owa/shared%40contoso.com/service.svc?action=GetFolder", NULL, 0 },
    { O, 0, "/owa/calendar/abc@contoso.com/def/calendar.html", NULL, 0 },
    { O, 0, "/owa/auth/15.2.1118/themes/resources/favicon.ico", NULL, 0 },
    { O, 0, "/owa/service.svc?action=GetAccessTokenforResource", "X-OWA-CANARY=abc; ClientId=XYZ", 0 },
    { C, 0, "/ecp/", NULL, 0 },
    { C, 0, "/ecp/default.aspx?p=PersonalSettings/Password.aspx", NULL, 0 },
    { B, 0, "/OAB/f4d2b3a1-1111-2222-3333-444455556666/oab.xml", NULL, 0 },
    { D, 0, "/Autodiscover/Autodiscover.xml", NULL, 0 },
    { D, 0, "/autodiscover/autodiscover.svc", NULL, 0 },
    { D, 0, "/autodiscover/autodiscover.json?Email=alice@contoso.com&Protocol=ActiveSync&RedirectCount=3", NULL, 0 },
    { D, 0, "/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=Rest&ServerLocation=true", NULL, 0 },
    { D, 0, "/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=AutodiscoverV1", NULL, 0 },
    { P, 0, "/PowerShell/", NULL, 0 },
    { P, 0, "/powershell?serializationLevel=Full;ExchClientVer=15.2", NULL, 0 },
    { X, 0, "/", NULL, 0 },
    { X, 0, "/aspnet_client/system_web/4_0_30319/WebUIValidation.js", NULL, 0 },
    { X, 0, "/favicon.ico", NULL, 0 },
    { X, 0, "/mapix/emsmdb", NULL, 0 },
    { X, 0, "/rpcproxy.dll", NULL, 0 },
    { X, 0, "/exchange/", NULL, 0 },
    { X, 0, "/custom/mapi/emsmdb", NULL, 0 },
    { 0, 0, NULL, NULL, 0 }
};


/* the path-confusion family: confused on purpose */

static const tcase  bad[] = {
    /* ProxyShell and its variants (the backend is after the address) */
    { M, 1, "/autodiscover/autodiscover.json?@x.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { P, 1, "/autodiscover/autodiscover.json?@x.com/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { P, 1, "/autodiscover/autodiscover.json?a=b@x.com/powershell/?X-Rps-CAT=VgEA&Email=autodiscover/autodiscover.json%3Fa=b@x.com", NULL, 0 },
    { E, 1, "/autodiscover/autodiscover.json?@x.com/EWS/exchange.asmx?&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { O, 1, "/autodiscover/autodiscover.json?@x.com/owa/?&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { M, 1, "/Autodiscover/autodiscover.json?a=u@x.com/mapi/nspi", "Email=Autodiscover/autodiscover.json?a=u@x.com", 0 },
    { P, 1, "/autodiscover/autodiscover.json/v1.0/aa..@host/owa/?&Email=autodiscover/autodiscover.json?a..@host&Protocol=Autodiscoverv1&Protocol=Powershell", NULL, 0 },
    { O, 1, "/owa/auth/Current/themes/resources/../../../../autodiscover/autodiscover.json?@foo.com/owa/?&Email=autodiscover/autodiscover.json%3F@foo.com", NULL, 0 },
    { P, 1, "/autodiscover/autodiscover.json?@x.com/powershell/?&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { P, 1, "/autodiscover/autodiscover.json?@x.com/%50owershell/?&Email=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { P, 1, "/AutoDiscover/AutoDiscover.JSON?@x.com/PowerShell/?&eMaIl=autodiscover/autodiscover.json%3F@x.com", NULL, 0 },
    { M, 1, "/autodiscover/autodiscover.json?@x.com/mapi/emsmdb/?&Email=autodiscover/autodiscover.json%253F@x.com", NULL, 0 },
    { D, 1, "/autodiscover/autodiscover.xml", NULL, 1 },
    /* Email somewhere else than autodiscover */
    { M, 1, "/ews/exchange.asmx?@x.com/mapi/nspi/?&Email=ews/exchange.asmx%3F@x.com", NULL, 0 },
    { E, 1, "/ews/exchange.asmx?Email=a/b@x.com", NULL, 0 },
    { X, 1, "/autodiscover/autodiscover.json?Email=autodiscover", NULL, 0 },
    /* OWASSRF: explicit logon path naming another backend */
    { P, 1, "/owa/mastermailbox@outlook.com/powershell", NULL, 0 },
    { P, 1, "/owa/mastermailbox%40outlook.com/powershell", NULL, 0 },
    { P, 1, "/OWA/x@y.com/PowerShell/?X-Rps-CAT=abc", NULL, 0 },
    { P, 1, "/owa/x..y.com/powershell", NULL, 0 },
    { M, 1, "/owa/x@y.com/mapi/emsmdb/", NULL, 0 },
    { P, 1, "/ecp/x@y.com/powershell", NULL, 0 },
    /* ProxyLogon routing cookies */
    { C, 1, "/ecp/y.js", "X-BEResource=localhost/owa/auth/logon.aspx?~3", 0 },
    { C, 1, "/ecp/default.flt", "a=b; X-AnonResource-Backend=localhost/ecp/default.flt?~3", 0 },
    /* encoded separators, backslashes, double and broken encoding */
    { M, 1, "/owa%2f..%2fmapi/emsmdb", NULL, 0 },
    { M, 1, "/owa\\..\\mapi/emsmdb", NULL, 0 },
    { M, 1, "/mapi%5cemsmdb", NULL, 0 },
    { M, 1, "/%2e%2e/mapi/emsmdb", NULL, 0 },
    { X, 1, "/%256dapi/emsmdb", NULL, 0 },
    { M, 1, "/mapi/emsmdb%00.js", NULL, 0 },
    { M, 1, "/mapi/%zz", NULL, 0 },
    { R, 1, "/rpc%2frpcproxy.dll?x:6001", NULL, 0 },
    /* names IIS folds into a virtual directory */
    { M, 1, "/mapi./emsmdb", NULL, 0 },
    { M, 1, "/mapi%20/emsmdb", NULL, 0 },
    { M, 1, "/map\xc4\xb1/emsmdb", NULL, 0 },
    { M, 1, "/map%C4%B1/emsmdb", NULL, 0 },
    { P, 1, "/power\xc5\xbfhell/", NULL, 0 },
    { A, 1, "/Microsoft-Server-ActiveSync/Proxy?Cmd=Sync", NULL, 0 },
    { A, 1, "/Microsoft-Server-ActiveSync/proxy/default.eas", NULL, 0 },
    { 0, 0, NULL, NULL, 0 }
};


/* nginx's own view: decoded once, slashes merged, dot segments resolved */

static size_t
nginx_uri(const char *target, char *out)
{
    size_t       n;
    const char  *p;
    char        *o, *s;
    int          h, l;

    n = 0;

    for (p = target; *p && *p != '?'; p++) {
        if (*p == '%' && isxdigit((unsigned char) p[1])
            && isxdigit((unsigned char) p[2]))
        {
            h = isdigit((unsigned char) p[1]) ? p[1] - '0'
                                              : (p[1] | 0x20) - 'a' + 10;
            l = isdigit((unsigned char) p[2]) ? p[2] - '0'
                                              : (p[2] | 0x20) - 'a' + 10;
            out[n++] = (char) (h * 16 + l);
            p += 2;

        } else {
            out[n++] = *p;
        }
    }

    out[n] = '\0';

    /* merge slashes, resolve dot segments */

    o = out;
    for (s = out; *s; s++) {
        if (*s == '/' && o > out && o[-1] == '/') {
            continue;
        }

        if (*s == '.' && o > out && o[-1] == '/'
            && (s[1] == '/' || s[1] == '\0'))
        {
            s += s[1] == '/';
            continue;
        }

        if (*s == '.' && s[1] == '.' && o > out && o[-1] == '/'
            && (s[2] == '/' || s[2] == '\0'))
        {
            if (o - out > 1) {
                o--;
                while (o > out && o[-1] != '/') {
                    o--;
                }
            }

            s += 1 + (s[2] == '/');
            continue;
        }

        *o++ = *s;
    }

    *o = '\0';

    return o - out;
}


static int  fast_taken;


/* the fast path, where it answers, answers as the full path did */

static void
differ(const ngx_exa_request_t *req, const ngx_exa_class_t *full,
    const char *what)
{
    ngx_exa_class_t  fast;

    memset(&fast, 0x5a, sizeof(fast));

    if (!ngx_exa_classify_fast(req, &fast)) {
        return;
    }

    fast_taken++;

    CHECK(fast.protocol == full->protocol && fast.path == full->path
          && fast.flags == full->flags
          && (fast.why == full->why
              || (fast.why && full->why && strcmp(fast.why, full->why) == 0)),
          "%s: fast path %s/%s/%u/%s, full path %s/%s/%u/%s", what,
          ngx_exa_protocol_name(fast.protocol),
          ngx_exa_protocol_name(fast.path), fast.flags,
          fast.flags ? fast.why : "-",
          ngx_exa_protocol_name(full->protocol),
          ngx_exa_protocol_name(full->path), full->flags,
          full->flags ? full->why : "-");
}


static void
classify_full(const char *target, const char *cookie, const char *logon,
    unsigned routing, int form, ngx_exa_class_t *cls)
{
    size_t              n;
    const char         *q;
    ngx_exa_str_t       c, l;
    ngx_exa_request_t   req;
    static char         uri[4096];
    static unsigned char  work[65536];

    n = nginx_uri(target, uri);

    memset(&req, 0, sizeof(req));
    req.uri = (const unsigned char *) uri;
    req.uri_len = n;

    q = strchr(target, '?');
    req.path = (const unsigned char *) target;
    req.path_len = q ? (size_t) (q - target) : strlen(target);

    if (q) {
        req.args = (const unsigned char *) q + 1;
        req.args_len = strlen(q + 1);
    }

    if (cookie) {
        c.data = (const unsigned char *) cookie;
        c.len = strlen(cookie);
        req.cookies = &c;
        req.ncookies = 1;
    }

    if (logon) {
        l.data = (const unsigned char *) logon;
        l.len = strlen(logon);
        req.logons = &l;
        req.nlogons = 1;
    }

    req.routing = routing;
    req.form = form;

    CHECK(ngx_exa_classify_work(&req) <= sizeof(work), "%s: work size",
          target);

    ngx_exa_classify(&req, work, sizeof(work), cls);

    differ(&req, cls, target);
}


static void
classify(const char *target, const char *cookie, int form,
    ngx_exa_class_t *cls)
{
    classify_full(target, cookie, NULL, 0, form, cls);
}


static void
expect_full(const char *target, const char *cookie, const char *logon,
    unsigned routing, int protocol, int confused)
{
    ngx_exa_class_t  cls;

    classify_full(target, cookie, logon, routing, 0, &cls);

    CHECK(cls.protocol == protocol
          && !!(cls.flags & NGX_EXA_CONFUSED) == confused,
          "%s%s%s%s%s: protocol %s confused %d, want %s %d (%s)", target,
          cookie ? " Cookie: " : "", cookie ? cookie : "",
          logon ? " X-OWA-ExplicitLogonUser: " : "", logon ? logon : "",
          ngx_exa_protocol_name(cls.protocol),
          !!(cls.flags & NGX_EXA_CONFUSED),
          ngx_exa_protocol_name(protocol), confused,
          cls.why ? cls.why : "-");
}


static void
expect(const char *target, const char *cookie, int form, int protocol,
    int confused)
{
    ngx_exa_class_t  cls;

    classify(target, cookie, form, &cls);

    CHECK(cls.protocol == protocol,
          "%s%s%s: protocol %s, want %s (%s)", target,
          cookie ? " Cookie: " : "", cookie ? cookie : "",
          ngx_exa_protocol_name(cls.protocol),
          ngx_exa_protocol_name(protocol), cls.why ? cls.why : "-");

    CHECK(!!(cls.flags & NGX_EXA_CONFUSED) == confused,
          "%s%s%s: confused %d, want %d (%s)", target,
          cookie ? " Cookie: " : "", cookie ? cookie : "",
          !!(cls.flags & NGX_EXA_CONFUSED), confused,
          cls.why ? cls.why : "-");
}


/* variants of a good path that IIS and nginx both treat as the same path */

static void
variants(const tcase *t)
{
    size_t       i, n, plen;
    const char  *q;
    char         v[2048], path[1024];

    q = strchr(t->target, '?');
    plen = q ? (size_t) (q - t->target) : strlen(t->target);

    if (plen < 2 || plen >= sizeof(path)) {
        return;
    }

    memcpy(path, t->target, plen);
    path[plen] = '\0';
    q = q ? q : "";

    /* upper case, and alternating case */
    for (i = 0; i <= plen; i++) {
        v[i] = (char) toupper((unsigned char) path[i]);
    }
    snprintf(v + plen, sizeof(v) - plen, "%s", q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    for (i = 0; i < plen; i++) {
        v[i] = (char) ((i & 1) ? toupper((unsigned char) path[i])
                               : tolower((unsigned char) path[i]));
    }
    snprintf(v + plen, sizeof(v) - plen, "%s", q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    /* doubled slashes */
    snprintf(v, sizeof(v), "/%s%s", path, q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    n = 0;
    for (i = 0; i < plen; i++) {
        v[n++] = path[i];
        if (path[i] == '/') {
            v[n++] = '/';
        }
    }
    snprintf(v + n, sizeof(v) - n, "%s", q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    /* dot segments */
    snprintf(v, sizeof(v), "/./%s%s", path + 1, q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    snprintf(v, sizeof(v), "/foo/bar/../../%s%s", path + 1, q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    snprintf(v, sizeof(v), "/../%s%s", path + 1, q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    /* every letter of the path percent-encoded, in either hex case */
    n = 0;
    for (i = 0; i < plen && n + 4 < sizeof(v); i++) {
        if (isalpha((unsigned char) path[i])) {
            n += snprintf(v + n, sizeof(v) - n, (i & 1) ? "%%%02X" : "%%%02x",
                          (unsigned char) path[i]);
        } else {
            v[n++] = path[i];
        }
    }
    snprintf(v + n, sizeof(v) - n, "%s", q);
    expect(v, t->cookie, t->form, t->protocol, 0);

    if (t->protocol == X) {
        return;
    }

    /* the first separator encoded: nginx and IIS may disagree */
    n = 0;
    for (i = 0; i < plen; i++) {
        if (i > 0 && path[i] == '/' && n < sizeof(v) - 4) {
            memcpy(v + n, "%2F", 3);
            n += 3;
            snprintf(v + n, sizeof(v) - n, "%s%s", path + i + 1, q);
            expect(v, t->cookie, t->form, t->protocol, 1);
            break;
        }
        v[n++] = path[i];
    }

    /* a backslash for the first separator after the directory */
    snprintf(v, sizeof(v), "/x\\..%s%s", path, q);
    expect(v, t->cookie, t->form, t->protocol, 1);
}


/*
 * "Email" written as ASP.NET still reads it: every letter raw, in either
 * case, %XX-encoded or %uXXXX-encoded, "i" as U+0131 or U+0130, and
 * whitespace .NET's Trim() removes around it; in the query and in a
 * cookie, with a value that is not a plain address (so that only the
 * name makes the request confused).
 */

static const char  *spaces_query[] = {
    "", "+", "%20", "%09", "%0B", "%0C", "%0D%0A", "%C2%A0", "%A0", "%85",
    "%u00A0", "%u3000", "%u2007", "%u200B", "%uFEFF", "%E3%80%80",
    "%E2%80%A8", "%u1680", NULL
};

static const char  *spaces_cookie[] = {
    "", " ", "\\t", "\\x0b", "\\x0c", "\\xa0", "\\x85", "\\xc2\\xa0",
    "\\xe3\\x80\\x80", "\\xe2\\x80\\x89", "\\xe2\\x80\\xaf", "\\xef\\xbb\\xbf",
    NULL
};


static size_t
unescape(const char *in, char *out)
{
    size_t  n;

    n = 0;

    while (*in) {
        if (in[0] == '\\' && in[1] == 'x') {
            out[n++] = (char) strtol((char []) { in[2], in[3], 0 }, NULL, 16);
            in += 4;

        } else if (in[0] == '\\' && in[1] == 't') {
            out[n++] = '\t';
            in += 2;

        } else {
            out[n++] = *in++;
        }
    }

    out[n] = '\0';

    return n;
}


static void
email_name(int seed, char *out, int query)
{
    int          i, r;
    size_t       n;
    const char  *name = "email";

    n = 0;

    for (i = 0; name[i]; i++) {
        r = (seed >> (2 * i)) & 3;

        if (name[i] == 'i' && (seed & 0x400)) {
            n += sprintf(out + n, query ? ((seed & 0x800) ? "%%u0131"
                                                          : "%%C4%%B0")
                                        : "\xc4\xb1");
            continue;
        }

        if (!query || r < 2) {
            out[n++] = (char) ((r & 1) ? toupper((unsigned char) name[i])
                                       : name[i]);

        } else if (r == 2) {
            n += sprintf(out + n, "%%%02X", (r & 1) ? toupper(name[i])
                                                   : name[i]);

        } else {
            n += sprintf(out + n, "%%u00%02x", toupper(name[i]));
        }
    }

    out[n] = '\0';
}


static void
email_names(void)
{
    int          seed, a, b, count;
    char         name[128], pre[32], post[32], t[512], c[512];
    const char  *bad_value = "a/b@x.com";

    count = 0;

    for (seed = 0; seed < 0x1000; seed += 7) {
        email_name(seed, name, 1);

        for (a = 0; spaces_query[a]; a++) {
            b = (a + seed) % (int) (sizeof(spaces_query)
                                     / sizeof(spaces_query[0]) - 1);

            snprintf(t, sizeof(t), "/ews/exchange.asmx?x=1&%s%s%s=%s",
                     spaces_query[a], name, spaces_query[b], bad_value);
            expect(t, NULL, 0, E, 1);
            count++;
        }

        email_name(seed, name, 0);

        for (a = 0; spaces_cookie[a]; a++) {
            b = (a + seed) % (int) (sizeof(spaces_cookie)
                                     / sizeof(spaces_cookie[0]) - 1);
            unescape(spaces_cookie[a], pre);
            unescape(spaces_cookie[b], post);

            snprintf(c, sizeof(c), "x=1;%s%s%s=%s", pre, name, post,
                     bad_value);
            expect("/ews/exchange.asmx", c, 0, E, 1);

            snprintf(c, sizeof(c), "x=1, %s%s%s=%s", pre, name, post,
                     bad_value);
            expect("/ews/exchange.asmx", c, 0, E, 1);
            count += 2;
        }
    }

    /* names that are not Email stay what they are */

    expect("/ews/exchange.asmx?Emails=a/b@x.com", NULL, 0, E, 0);
    expect("/ews/exchange.asmx?E-mail=a/b@x.com", NULL, 0, E, 0);
    expect("/ews/exchange.asmx?%45mail2=a/b@x.com", NULL, 0, E, 0);
    expect("/ews/exchange.asmx?xEmail=a/b@x.com", NULL, 0, E, 0);
    expect("/ews/exchange.asmx?E%u006Dai=a/b@x.com", NULL, 0, E, 0);
    expect("/ews/exchange.asmx", "Emailx=a/b@x.com", 0, E, 0);
    expect("/ews/exchange.asmx", "E mail=a/b@x.com", 0, E, 0);

    printf("test_classify: %d generated Email names\n", count);
}


static void
routing_and_logon(void)
{
    /* an Autodiscover query that names a backend with "\" */

    expect("/autodiscover/autodiscover.json?a=x@y.com\\mapi\\nspi", NULL, 0,
           M, 1);
    expect("/autodiscover/autodiscover.json?a=x@y.com%5Cmapi%5Cnspi", NULL,
           0, M, 1);
    expect("/autodiscover/autodiscover.json?a=x@y.com%u005cpowershell",
           NULL, 0, P, 1);
    expect("/autodiscover/autodiscover.json?a=x@y.com%u002fews", NULL, 0,
           E, 1);

    /* the issue's combination: an encoded name and a "\" path */

    expect("/autodiscover/autodiscover.json?@x.com\\mapi\\nspi\\?&E%6Dail="
           "autodiscover/autodiscover.json%3F@x.com", NULL, 0, M, 1);
    expect("/autodiscover/autodiscover.json?@x.com\\mapi\\nspi\\?&%u0045mail="
           "autodiscover/autodiscover.json%3F@x.com", NULL, 0, M, 1);

    /* names only Exchange's own servers send, in the query or a cookie */

    expect("/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dz", NULL, 0, P, 1);
    expect("/ecp/default.aspx?x%2Dbe%52esource=a", NULL, 0, C, 1);
    expect("/ecp/y.js", "X-AnonResource=true", 0, C, 1);
    expect("/ecp/y.js", "a=b; x-commonaccesstoken=VgEA", 0, C, 1);
    expect("/ecp/y.js", "a=b;\xc2\xa0X-BEResource\t=localhost~1", 0, C, 1);
    expect_full("/ecp/y.js", NULL, NULL, 1, C, 1);
    expect_full("/mapi/emsmdb/", NULL, NULL, 1, M, 1);

    /* X-OWA-ExplicitLogonUser: the address Exchange removes */

    expect_full("/owa/shared@contoso.com/service.svc?action=GetFolder", NULL,
                "shared@contoso.com", 0, O, 0);
    expect_full("/owa/service.svc?action=GetFolder", NULL,
                "Shared@Contoso.com", 0, O, 0);
    expect_full("/owa/x@y.commapi/emsmdb/", NULL, "owa/x@y.com", 0, O, 1);
    expect_full("/owa/x@y.compowershell", NULL, "owa/x@y.com", 0, O, 1);
    expect_full("/owa/x@y.commapi/emsmdb/", NULL, "x@y.com", 0, X, 1);
    expect_full("/ma/x@y.compi/emsmdb/", NULL, "x@y.com", 0, M, 1);
    expect_full("/ma/X@Y.COMpi/emsmdb/", NULL, "x@y.com", 0, M, 1);
    expect_full("/owa/mastermailbox@outlook.com/powershell", NULL,
                "owa/mastermailbox@outlook.com", 0, P, 1);
    expect_full("/owa/", NULL, "x@y.com%2fmapi", 0, O, 1);
    expect_full("/owa/", NULL, "x..y", 0, O, 1);
    expect("/ma/x@y.compi/emsmdb/?X-OWA-ExplicitLogonUser=x@y.com", NULL, 0,
           M, 1);
    expect("/ma/x@y.compi/emsmdb/", "X-OWA-ExplicitLogonUser=x@y.com", 0,
           M, 1);

    /*
     * Email removed wherever it is, and again where a removal joins it
     * anew; and the first "/" + address removed, as the decompiled code
     */

    expect("/mapb@c.db@c.di/emsmdb?Email=b@c.d", NULL, 0, M, 1);
    expect("/ma/b@c.dpi/emsmdb?Email=b@c.d", NULL, 0, M, 1);
    expect("/autodiscover/autodiscover.json/b@c.d?Email=b@c.d", NULL, 0, D,
           0);
    expect("/autodiscover/autodiscover.json?Email=alice@contoso.com"
           "&Protocol=ActiveSync", "Email=bob@contoso.com", 0, D, 0);

    /* the values of one name joined with "," are one more address */

    expect("/ma/a,b@c.dpi/?Email=a&Email=b@c.d", NULL, 0, M, 1);

    /* Content-Type values that make a form */

    CHECK(ngx_exa_form_type((const unsigned char *)
                            "application/x-www-form-urlencoded", 33),
          "form type");
    CHECK(ngx_exa_form_type((const unsigned char *)
                            "text/plain, Multipart/Form-Data; b=1", 36),
          "form type in a joined value");
    CHECK(!ngx_exa_form_type((const unsigned char *) "application/json",
                             16), "not a form type");

    /* the headers Exchange routes by */

    CHECK(ngx_exa_header_kind((const unsigned char *)
                              "X-OWA-ExplicitLogonUser", 23)
          == NGX_EXA_PARAM_LOGON, "logon header");
    CHECK(ngx_exa_header_kind((const unsigned char *)
                              "x_owa_explicitlogonuser", 23)
          == NGX_EXA_PARAM_LOGON, "logon header with underscores");
    CHECK(ngx_exa_header_kind((const unsigned char *) "X-BEResource", 12)
          == NGX_EXA_PARAM_ROUTING, "routing header");
    CHECK(ngx_exa_header_kind((const unsigned char *) "X-Rps-CAT", 9)
          == NGX_EXA_PARAM_ROUTING, "routing header");
    CHECK(ngx_exa_header_kind((const unsigned char *) "Email", 5)
          == NGX_EXA_PARAM_NONE, "Email is no header Exchange reads");
    CHECK(ngx_exa_header_kind((const unsigned char *) "X-AnchorMailbox",
                              15)
          == NGX_EXA_PARAM_NONE, "X-AnchorMailbox picks a mailbox only");
}


/*
 * Work linear in the request: the worst inputs for every scan (an address
 * that occurs everywhere, removals that join new occurrences, long names
 * and values, many cookies) take milliseconds, not seconds.
 */

static void
linear(void)
{
    int                 i, k;
    size_t              n, len;
    clock_t             t0;
    double              ms;
    ngx_exa_str_t       cookies[8], logons[8];
    ngx_exa_class_t     cls;
    ngx_exa_request_t   req;
    unsigned char      *work;
    static char         path[65536], args[65536], ck[8][32768];

    /* "/autodiscover/" and "a" to 64 KB, eight Email values of "a"s */

    n = sprintf(path, "/autodiscover/");
    memset(path + n, 'a', 60000);
    path[n + 60000] = '\0';

    len = 0;
    for (i = 0; i < 8; i++) {
        len += sprintf(args + len, "%sEmail=", i ? "&" : "");
        memset(args + len, 'a', 1 + i * 700);
        len += 1 + i * 700;
    }
    args[len] = '\0';

    for (k = 0; k < 8; k++) {
        memset(ck[k], 'a', sizeof(ck[k]) - 1);
        memcpy(ck[k], "Email=", 6);
        ck[k][sizeof(ck[k]) - 1] = '\0';
        cookies[k].data = (const unsigned char *) ck[k];
        cookies[k].len = sizeof(ck[k]) - 1;
        logons[k].data = (const unsigned char *) ck[k] + 6;
        logons[k].len = 4000;
    }

    memset(&req, 0, sizeof(req));
    req.uri = (const unsigned char *) path;
    req.uri_len = strlen(path);
    req.path = req.uri;
    req.path_len = req.uri_len;
    req.args = (const unsigned char *) args;
    req.args_len = len;
    req.cookies = cookies;
    req.ncookies = 1;
    req.logons = logons;
    req.nlogons = 8;

    work = malloc(ngx_exa_classify_work(&req));
    if (work == NULL) {
        abort();
    }

    t0 = clock();
    ngx_exa_classify(&req, work, ngx_exa_classify_work(&req), &cls);
    ms = (clock() - t0) * 1000.0 / CLOCKS_PER_SEC;

    CHECK(ms < 500, "64 KB of one letter and eight addresses of it: %.0f ms",
          ms);
    printf("test_classify: worst-case Email removal %.1f ms\n", ms);

    free(work);

    /* eight cookies of 32 KB, each a name of spaces and a long value */

    for (k = 0; k < 8; k++) {
        memset(ck[k], ' ', sizeof(ck[k]) - 1);
        memcpy(ck[k] + 16000, "Email=", 6);
        ck[k][sizeof(ck[k]) - 1] = '\0';
    }

    req.ncookies = 8;
    req.nlogons = 0;

    work = malloc(ngx_exa_classify_work(&req));
    if (work == NULL) {
        abort();
    }

    t0 = clock();
    ngx_exa_classify(&req, work, ngx_exa_classify_work(&req), &cls);
    ms = (clock() - t0) * 1000.0 / CLOCKS_PER_SEC;

    CHECK(ms < 500, "256 KB of cookies: %.0f ms", ms);
    CHECK(cls.flags & NGX_EXA_CONFUSED, "cookie Email of blanks is confused");

    free(work);
}


/*
 * Requests made of the pieces the fast path must tell apart, the raw
 * path and nginx's the same or not: wherever the fast path answers, the
 * full path answers the same; and the common requests take it.
 */

static const char  *fast_pieces[] = {
    "/", "/", "/", "mapi", "MAPI", "emsmdb", "ews", "Exchange.asmx",
    "autodiscover", "powershell", "PowerShell", "microsoft-server-activesync",
    "proxy", "owa", "rpc", "ecp", "oab", ".", "..", "%2f", "%2e", "%40",
    "%", "\\", "@", ";", "+", "~", "x", "-", "_", ":", "=", "&", "?",
    " ", "\xc4\xb1", "\xe2\x84\xaa", "api", "a.b", ".", "/."
};

static const char  *fast_queries[] = {
    "", "MailboxId=416c6368@contoso.com", "Cmd=Sync&User=alice&DeviceId=A1",
    "email=a@b", "Email=a@b", "x-beresource=b", "X-AnonResource=true",
    "x%2dberesource=1", "e+mail=1", "a=1&&b", "=", "&", "x-rps-cat=",
    "emai=1", "emails=1", "MailboxId=x&Email=autodiscover/x@y",
    "x-owa-explicitlogonuser=a@b", "%20email=1", "a=%40&b=c"
};

static void
fast_differential(void)
{
    int                 i, j, k, m, taken;
    char                target[512], uri[512];
    const char         *p;
    size_t              n;
    unsigned int        seed;
    ngx_exa_class_t     cls;
    ngx_exa_request_t   req;
    static unsigned char  work[65536];
    static const char  *common[] = {
        "/mapi/emsmdb/",
        "/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45@contoso.com",
        "/mapi/nspi/?MailboxId=416c6368-656d-794a-6f45@contoso.com",
        "/rpc/rpcproxy.dll?mail.contoso.com:6001",
        "/EWS/Exchange.asmx",
        "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=A1"
        "&DeviceType=iPhone",
        "/Microsoft-Server-ActiveSync/Proxy",
        "/owa/", "/ecp/", "/OAB/f4d2b3a1/oab.xml",
        "/Autodiscover/Autodiscover.xml", "/autodiscover/powershell",
        "/PowerShell/", "/", "/favicon.ico",
        NULL
    };

    for (i = 0; common[i]; i++) {
        taken = fast_taken;
        classify(common[i], NULL, 0, &cls);
        CHECK(fast_taken == taken + 1, "%s takes the fast path", common[i]);
    }

    seed = 7;
    taken = fast_taken;

    for (i = 0; i < 200000; i++) {
        target[0] = '\0';
        n = 0;
        m = 1 + (int) ((seed = seed * 1103515245 + 12345) >> 16) % 6;

        for (j = 0; j < m; j++) {
            k = (int) ((seed = seed * 1103515245 + 12345) >> 16)
                % (int) (sizeof(fast_pieces) / sizeof(fast_pieces[0]));
            p = fast_pieces[k];
            n += snprintf(target + n, sizeof(target) - n, "%s%s",
                          j ? "" : "/", p);
        }

        k = (int) ((seed = seed * 1103515245 + 12345) >> 16)
            % (int) (sizeof(fast_queries) / sizeof(fast_queries[0]));

        if (fast_queries[k][0]) {
            snprintf(target + n, sizeof(target) - n, "?%s", fast_queries[k]);
        }

        /* the raw path against nginx's, or against another path */

        memset(&req, 0, sizeof(req));
        req.path = (const unsigned char *) target;
        p = strchr(target, '?');
        req.path_len = p ? (size_t) (p - target) : strlen(target);

        if (p) {
            req.args = (const unsigned char *) p + 1;
            req.args_len = strlen(p + 1);
        }

        if (i % 5 == 4) {
            k = (int) ((seed = seed * 1103515245 + 12345) >> 16)
                % (int) (sizeof(fast_pieces) / sizeof(fast_pieces[0]));
            n = snprintf(uri, sizeof(uri), "/%s/x", fast_pieces[k]);

        } else {
            n = nginx_uri(target, uri);
        }

        req.uri = (const unsigned char *) uri;
        req.uri_len = n;
        req.form = i % 7 == 3;

        ngx_exa_classify(&req, work, sizeof(work), &cls);
        differ(&req, &cls, target);
    }

    printf("test_classify: fast path taken by %d of 200000 generated "
           "requests\n", fast_taken - taken);

    CHECK(fast_taken - taken > 10000, "fast path taken often enough");
}


/*
 * ngx_exa_path_short(), where it answers, answers as ngx_exa_path_scan():
 * paths of 1 to 40 bytes drawn from the bytes either treats apart
 */

static void
path_short_differential(void)
{
    int            i, answered, plain;
    size_t         len, k, a, b;
    unsigned char  path[40];
    static const char  bytes[] = "/////....aaaazZ09-_~%!:;?\\x\x80";

    answered = 0;
    plain = 0;
    srand(7);

    for (i = 0; i < 500000; i++) {
        len = 1 + rand() % sizeof(path);
        path[0] = (rand() % 16) ? '/' : 'a';

        for (k = 1; k < len; k++) {
            path[k] = (rand() % 3) ? 'm' : bytes[rand() % (sizeof(bytes) - 1)];
        }

        a = 12345;
        b = 54321;

        if (ngx_exa_path_scan(path, len, &b)) {
            plain++;
        }

        if (ngx_exa_path_short(path, len, &a)) {
            answered++;

            if (!ngx_exa_path_scan(path, len, &b) || a != b) {
                CHECK(0, "short path \"%.*s\": %zu, scan %zu",
                      (int) len, path, a, b);
                return;
            }
        }
    }

    printf("test_classify: the short path answered %d of %d plain paths\n",
           answered, plain);

    CHECK(answered > plain / 8, "the short path answers often enough");
}


int
main(void)
{
    int               i, n;
    size_t            len;
    const tcase      *t;
    ngx_exa_class_t   cls;
    ngx_exa_request_t req;
    unsigned char     small[8];
    char              big[3000];

    n = 0;

    for (t = good; t->target; t++, n++) {
        expect(t->target, t->cookie, t->form, t->protocol, t->confused);
        variants(t);
    }

    for (t = bad; t->target; t++, n++) {
        expect(t->target, t->cookie, t->form, t->protocol, t->confused);
    }

    /* a work buffer that is too small fails closed */
    memset(&req, 0, sizeof(req));
    req.uri = (const unsigned char *) "/mapi/emsmdb";
    req.uri_len = 12;
    req.path = req.uri;
    req.path_len = 12;
    ngx_exa_classify(&req, small, sizeof(small), &cls);
    CHECK(cls.flags & NGX_EXA_CONFUSED, "small work buffer is confused");

    /* a long path and query, and every byte value in a path */
    memset(big, 'a', sizeof(big));
    memcpy(big, "/mapi/", 6);
    big[sizeof(big) - 1] = '\0';
    expect(big, NULL, 0, M, 0);

    for (i = 1; i < 256; i++) {
        snprintf(big, sizeof(big), "/mapi/%c/x", i);
        classify(big, NULL, 0, &cls);
        CHECK(cls.protocol == M || (cls.flags & NGX_EXA_CONFUSED),
              "byte %d: protocol %s", i, ngx_exa_protocol_name(cls.protocol));
    }

    /* without a raw path the classifier uses nginx's */
    memset(&req, 0, sizeof(req));
    req.uri = (const unsigned char *) "/RPC/rpcproxy.dll";
    req.uri_len = 17;
    len = ngx_exa_classify_work(&req);
    CHECK(len >= 16, "work size");
    ngx_exa_classify(&req, small, sizeof(small), &cls);
    CHECK(cls.protocol == R && cls.flags == 0, "uri only");

    CHECK(ngx_exa_protocol_by_name((const unsigned char *) "MAPI", 4) == M,
          "by name");
    CHECK(ngx_exa_protocol_by_name((const unsigned char *) "other", 5) == X,
          "other by name");
    CHECK(ngx_exa_protocol_by_name((const unsigned char *) "imap", 4) == -1,
          "unknown name");

    email_names();
    routing_and_logon();
    linear();
    fast_differential();
    path_short_differential();

    printf("test_classify: %d table entries\n", n);

    UNIT_DONE("test_classify");
}
