# ---------------------------------------------------------------------------------------------
# No IAM here: Application Auto Scaling scales SageMaker variants with its service-linked role
# (AWSServiceRoleForApplicationAutoScaling_SageMakerEndpointVariant), which AWS creates on the
# first RegisterScalableTarget of the account. The caller only needs permission to register.
# ---------------------------------------------------------------------------------------------
