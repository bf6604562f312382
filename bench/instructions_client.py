#!/usr/bin/env python3
"""bench/instructions.sh's client, sequential on one keep-alive connection: KIND N  (env: TOKEN, PORT, OWNER_MIN, PRODUCT_MIN)
Deterministic request sequence, the same for every binary; request i uses i only.
Exits 1 on any non-2xx answer."""
import http.client, os, sys
kind, n = sys.argv[1], int(sys.argv[2])
tok = os.environ["TOKEN"]; port = int(os.environ.get("PORT", "18170"))
omin = int(os.environ["OWNER_MIN"]); pmin = int(os.environ["PRODUCT_MIN"])
ACC, OPPS, OWNERS, PRODS = 200, 2000, 20, 20
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
h = {"Authorization": "Bearer " + tok}
for i in range(n):
    body = None; hh = dict(h)
    if kind == "get_account":
        m, p = "GET", "/accounts/%d" % (1 + (i * 7919) % ACC)
    elif kind == "get_opportunity":
        m, p = "GET", "/opportunities/%d" % (1 + (i * 7919) % OPPS)
    elif kind == "list_opportunities":
        m, p = "GET", "/opportunities?owner_id=%d&sort=close_date&limit=50" % (omin + i % OWNERS)
    elif kind == "create_opportunity":
        m, p = "POST", "/opportunities"
        body = ('{"account_id":%d,"name":"Bench deal","lines":[{"product_id":%d,"quantity":2},'
                '{"product_id":%d,"quantity":1,"unit_price":"99.50"}]}') % (
                    1 + (i * 7919) % ACC, pmin + i % PRODS, pmin + (i * 7) % PRODS)
        hh["Content-Type"] = "application/json"
    elif kind == "patch_opportunity":
        k = 11 + i % 79
        m, p = "PATCH", "/opportunities/%d" % (1 + (i * 7919) % OPPS)
        body = '{"next_step":"Bench step %d","probability":%d}' % (k, k)
        hh["Content-Type"] = "application/merge-patch+json"
    else:
        sys.exit("unknown kind " + kind)
    c.request(m, p, body=body, headers=hh)
    r = c.getresponse(); data = r.read()
    if not (200 <= r.status < 300):
        sys.exit("request %d %s %s -> %d %s" % (i, m, p, r.status, data[:300]))
    if r.getheader("Connection", "").lower() == "close":
        sys.exit("server closed the connection at request %d" % i)
c.close()
print("%s: %d requests ok" % (kind, n))
