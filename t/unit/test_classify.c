/*
 * The protocol classifier.
 */

#include "unit.h"
#include "ngx_exa_classify.h"


static int
proto(const char *uri)
{
    ngx_exa_class_t  cls;

    ngx_exa_classify((const unsigned char *) uri, strlen(uri), NULL, 0, &cls);

    return cls.protocol;
}


int
main(void)
{
    CHECK(proto("/mapi/emsmdb/") == NGX_EXA_PROTO_MAPI, "mapi");
    CHECK(proto("/MAPI/nspi/") == NGX_EXA_PROTO_MAPI, "MAPI");
    CHECK(proto("/mapi") == NGX_EXA_PROTO_MAPI, "bare mapi");
    CHECK(proto("/rpc/rpcproxy.dll") == NGX_EXA_PROTO_RPC, "rpc");
    CHECK(proto("/RpcWithCert/rpcproxy.dll") == NGX_EXA_PROTO_RPC,
          "rpcwithcert");
    CHECK(proto("/owa/") == NGX_EXA_PROTO_OWA, "owa");
    CHECK(proto("/mapix/") == NGX_EXA_PROTO_OTHER, "mapix");
    CHECK(proto("/") == NGX_EXA_PROTO_OTHER, "root");
    CHECK(proto("") == NGX_EXA_PROTO_OTHER, "empty");

    CHECK(ngx_exa_protocol_by_name((const unsigned char *) "MAPI", 4)
          == NGX_EXA_PROTO_MAPI, "by name");
    CHECK(ngx_exa_protocol_by_name((const unsigned char *) "imap", 4) == -1,
          "unknown name");

    UNIT_DONE("test_classify");
}
