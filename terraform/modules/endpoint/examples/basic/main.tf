# The platform's endpoint: two variants weighted 9:1 serving models from the data bucket and a
# third, without traffic yet, serving a serial inference pipeline (a scikit-learn preprocessor
# whose CSV output the XGBoost model scores), with data capture, in the private subnets (the platform stack passes the kms, storage, ecr and
# network modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "endpoint" {
  source = "../.."

  name             = "byo"
  kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  model_bucket_arn = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  model_prefix     = "models/"
  variants = {
    champion = {
      model_data_url = "s3://byo-data-111122223333-eu-west-1/models/initial/<sha256>/model.tar.gz"
      initial_weight = 9
    }
    challenger = {
      model_data_url = "s3://byo-data-111122223333-eu-west-1/models/initial/<sha256>/model.tar.gz"
      initial_weight = 1
      # A bring-your-own image instead of the prebuilt sagemaker-xgboost one.
      image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving:1.0.0"
    }
    pipeline = {
      initial_weight = 0
      # Containers run in order: each one's response is the next one's request.
      containers = [
        {
          model_data_url     = "s3://byo-data-111122223333-eu-west-1/models/<sha256>/model.tar.gz"
          image              = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving:1.0.0"
          environment        = { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT = "text/csv" }
          container_hostname = "preprocess"
        },
        {
          model_data_url     = "s3://byo-data-111122223333-eu-west-1/models/<sha256>/model.tar.gz"
          container_hostname = "model"
        },
      ]
    }
  }
  data_capture = {
    destination_s3_uri  = "s3://byo-data-111122223333-eu-west-1/captures"
    sampling_percentage = 100
  }
  ecr_repository_arns    = ["arn:aws:ecr:eu-west-1:111122223333:repository/byo/serving"]
  vpc_subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
  vpc_security_group_ids = ["sg-0d4e5f60718293a4b"]
  tags                   = { team = "ml" }
}
