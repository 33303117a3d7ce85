"""The ml-byo batch flow: the S3 trigger handler (Lambda) and the Batch scoring job."""
