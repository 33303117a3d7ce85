variable "package_path" {
  description = "The trigger's Lambda package (the project builds build/lambda/trigger.zip with `make lambda-package`)."
  type        = string
}
