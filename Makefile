# Builds ngx_http_exchange_access_module.so against the nginx that is
# installed (Debian's nginx with nginx-dev), or against any nginx source
# tree given as NGINX_SRC.  "make help" lists the targets.

NGINX_SRC  ?= /usr/share/nginx/src
BUILD      ?= build
NGINX_OBJS  = $(BUILD)/nginx/objs
MODULE_SO   = $(NGINX_OBJS)/ngx_http_exchange_access_module.so
SOURCES     = config $(wildcard ngx_exchange_access_module/*.[ch])
SRCLIST     = $(sort $(wildcard ngx_exchange_access_module/*.[ch]))

.PHONY: all module test demo unit fuzz bench deb clean help FORCE

all: module

module: $(MODULE_SO)

# config lists the files it finds: a file added or removed reconfigures
$(BUILD)/sources: FORCE
	@mkdir -p $(BUILD)
	@echo "$(SRCLIST)" | cmp -s - $@ || echo "$(SRCLIST)" > $@

$(NGINX_OBJS)/Makefile: config $(BUILD)/sources
	rm -rf $(BUILD)/nginx
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && bash -ec '\
	    if [ -f conf_flags ]; then . ./conf_flags; \
	    else NGX_CONF_FLAGS=(--with-compat --with-threads \
	        --with-http_ssl_module --with-http_realip_module); fi; \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) > ../configure.log'

$(MODULE_SO): $(NGINX_OBJS)/Makefile $(SOURCES)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@echo "built $(MODULE_SO)"

test:
	bash util/test.sh

demo:
	bash util/demo.sh

unit:
	$(MAKE) -C t/unit

# the Debian package, built with dh_nginx (nginx-dev's dh-sequence-nginx)
# from a copy of the tree; the .deb lands in build/deb/
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/src
	git archive --format=tar HEAD | tar -x -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD) t/servroot*

help:
	@echo "make            build the module (.so) against the installed nginx"
	@echo "make test       install what the tests need and run the suite"
	@echo "make demo       start the demo proxy on 127.0.0.1"
	@echo "make unit       run the unit tests of the pure parsers"
	@echo "make deb        build the Debian package into build/deb/"
	@echo "make clean      remove build products"
