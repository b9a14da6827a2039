"""The model registry: the contract (:mod:`.base`) and its MLflow adapter (:mod:`.mlflow_store`,
the only module of lifecycle that imports mlflow)."""
