"""The applications built on the SDK and the server side.

``bench`` (``zoo bench``), ``soak`` (``zoo soak``), ``playground`` (``zoo playground``),
``deploy`` (``zoo deploy``: Kubernetes/KServe manifests), ``demo`` (``zoo demo``) and
``projection`` (the files ``zoo project`` and ``zoo interpolate`` write).
"""
