"""Synthetic credit-card-fraud data and the XGBoost model trained on it."""
