"""Serving, in three folders that import downwards only.

- ``serving.client``: the client SDK (numpy + tritonclient, nothing heavy of genzoo);
- ``serving.server``: the server side: the Triton model repository, the wire format, the
  Python models Triton runs, the embedded server's launcher, serving in-process;
- ``serving.apps``: the applications: bench, soak, playground, deploy, demo, projection files.
"""
