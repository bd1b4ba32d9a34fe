"""The server side: what answers requests.

``repository`` writes Triton's model repository (configs, exported graphs, the Python models
in ``backends``); ``wire`` is the wire format they speak; ``triton`` starts and stops the
embedded Triton server; ``admin_key`` guards its restricted admin APIs; ``storage`` mirrors a
repository to an object store; ``inprocess`` answers the SDK's calls in this process, with no
server.
"""
