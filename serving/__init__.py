"""The BYO inference server (SageMaker container contract) and its inference core."""
