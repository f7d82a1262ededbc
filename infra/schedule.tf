locals {
  # NYSE regular session 09:30-16:00 New York time, weekdays: 09:30-09:59, then 10:00-15:59.
  # The handler itself skips holidays and early closes (exchange_calendars).
  schedules = var.around_the_clock ? {
    always = "rate(1 minute)"
    } : {
    opening = "cron(30-59 9 ? * MON-FRI *)"
    session = "cron(* 10-15 ? * MON-FRI *)"
  }
}

resource "aws_scheduler_schedule" "tick" {
  #checkov:skip=CKV_AWS_297:The schedule's only payload is a placeholder for the scheduled time; an AWS-owned key encrypts it and a CMK costs $1/month.
  for_each = local.schedules

  name                         = "${local.function_name}-${each.key}"
  schedule_expression          = each.value
  schedule_expression_timezone = "America/New_York"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.tick.arn
    role_arn = aws_iam_role.scheduler.arn
    # The handler floors this to the tick minute: a redelivery is the same tick. A literal
    # string, not jsonencode(), which would escape the placeholder's < and > as \u003c/\u003e.
    input = "{\"source\": \"marketdata.scheduler\", \"scheduled_time\": \"<aws.scheduler.scheduled-time>\"}"

    retry_policy {
      maximum_event_age_in_seconds = 60
      maximum_retry_attempts       = 0
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}
