# ---------------------------------------------------------------------------------------------
# No IAM here: the repositories carry no repository policy, so only principals of this account
# whose own roles allow it pull or push. Each consumer's module grants its role pulls from the
# repository ARNs it is given (repository_arns), and nothing else.
# ---------------------------------------------------------------------------------------------
