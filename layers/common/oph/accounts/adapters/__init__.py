"""The accounts context's own AWS beyond DynamoDB: the push queue (SQS) and SNS mobile push."""
