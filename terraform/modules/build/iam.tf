locals {
  subnet_arns = var.vpc_config == null ? [] : [
    for s in var.vpc_config.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${s}"
  ]

  policy_statements = concat(
    [
      {
        Sid      = "WriteBuildLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = flatten([for arn in values(local.log_group_arns) : [arn, "${arn}:*"]])
      },
      {
        # The S3 source: the bundle's object (any of its versions), nothing else in the bucket.
        Sid      = "ReadSourceBundle"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = [local.bundle_object_arn]
      },
      {
        # Decrypt the SSE-KMS bundle; encrypt what the build writes with the project's key.
        Sid      = "UsePlatformKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
      {
        # The registry login token is account-wide: AWS requires Resource "*" for this action.
        Sid      = "LogInToEcr"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        # DescribeImages: a tag already pushed is not rebuilt (the repositories are tag-immutable).
        Sid    = "PushImages"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
          "ecr:DescribeImages",
        ]
        Resource = distinct([for i in values(local.images) : i.repository_arn])
      },
    ],
    [for statement in [
      {
        # CodeBuild manages the builds' network interfaces with the service role. AWS documents
        # these actions with Resource "*" ("Allow CodeBuild access to AWS services required to
        # create a VPC network interface"); the describe calls have no resource-level permissions.
        Sid    = "ManageBuildNetworkInterfaces"
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeVpcs",
        ]
        Resource = ["*"]
      },
      {
        # Attaching an interface is held to the given subnets and to CodeBuild as the service.
        Sid      = "AttachBuildNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterfacePermission"]
        Resource = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
        Condition = {
          StringEquals = {
            "ec2:Subnet"            = local.subnet_arns
            "ec2:AuthorizedService" = "codebuild.amazonaws.com"
          }
        }
      },
    ] : statement if var.vpc_config != null],
  )
}

# ---------------------------------------------------------------------------------------------
# Service role of the projects: read the bundle, log, push the images
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "this" {
  count = local.create ? 1 : 0

  name        = "${var.name}-build"
  description = "${var.name}: CodeBuild builds of the platform's images from the source bundle into ECR"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "codebuild.amazonaws.com" }
        Action    = "sts:AssumeRole"
        # Only CodeBuild acting for this account's projects (confused-deputy protection).
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })

  tags = merge(local.tags, { Name = "${var.name}-build" })
}

resource "aws_iam_role_policy" "this" {
  count = local.create ? 1 : 0

  name = "${var.name}-build-permissions"
  role = aws_iam_role.this[0].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })
}

# ---------------------------------------------------------------------------------------------
# Events role: the upload rule may start these projects' builds, and nothing else
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "events" {
  count = local.create && var.build_on_upload ? 1 : 0

  name        = "${var.name}-build-on-upload"
  description = "Lets the ${var.name}-build-on-upload rule start the ${var.name}-build-* projects' builds, and nothing else."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "events.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })

  tags = merge(local.tags, { Name = "${var.name}-build-on-upload" })
}

resource "aws_iam_role_policy" "events" {
  count = local.create && var.build_on_upload ? 1 : 0

  name = "start-the-builds"
  role = aws_iam_role.events[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheBuilds"
      Effect   = "Allow"
      Action   = ["codebuild:StartBuild"]
      Resource = values(local.project_arns)
    }]
  })
}
