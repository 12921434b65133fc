"""PagerDuty-compatible REST API emulator: serves an account file as PagerDuty's REST API v2.

Entry points: ``app.create_app`` (the WSGI app, in-process via ``httpx2.WSGITransport``) and
``serve.start_server`` / ``serve.serve`` (the same app over TLS on loopback). The parts:
``account`` (load, validate, index), ``present`` (wire shapes, references, include[]),
``directory`` and ``schedule_endpoints`` (the endpoints), ``render_v2`` / ``render_v3`` /
``oncalls`` (schedule maths on ``intervals`` and ``timeutil``), ``protocol`` (errors,
pagination), ``ratelimit``, ``faults`` (injected errors, drops, truncated bodies, timeouts,
429 storms), ``cache``, ``rendering``, ``tls``. Nothing is imported here, so
importing the package has no side effects.
"""
