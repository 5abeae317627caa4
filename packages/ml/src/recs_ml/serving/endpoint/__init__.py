"""The local endpoint (``recs serve``): the SageMaker hosting contract on 127.0.0.1:8080.

``app`` is a plain WSGI application (``/ping``, ``/invocations``, ``/admin/load``), ``model``
loads and calls the SavedModels of one artifact, ``server`` runs the app under gunicorn
(one worker process, gthread threads; TensorFlow is imported only inside the worker).
"""
