"""The training pipeline: process → train → evaluate → condition → register → deploy."""
