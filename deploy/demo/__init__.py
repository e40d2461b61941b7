"""The demo stack launcher (``python -m deploy.demo``, ``make demo``) and the processes it runs."""
