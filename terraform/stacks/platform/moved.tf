# ---------------------------------------------------------------------------------------------
# State moves of the layout change (issue 13): resources that moved between modules keep their
# state, so an applied stack plans with nothing destroyed.
# ---------------------------------------------------------------------------------------------

# --- the platform key (kms), the model registry (registry): out of storage and endpoint ---

# --- AWS Batch job definitions (batch), the scheduled monitoring job (monitoring): out of batch and observability ---
