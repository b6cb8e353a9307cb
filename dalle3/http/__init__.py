"""HTTP to the image API: the client, request bodies, the event stream, retries, answer limits, discovery.

Nothing here knows the page; everything here may be slow (it talks to the network).
"""
