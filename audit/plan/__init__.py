"""Judging a Terraform plan of PagerDuty changes before it is applied (``pd-audit plan``).

The plan (``terraform show -json``) is read (``reader``), its values unknown until apply are
resolved through the configuration's references (``references``), each resource change is
mapped onto the raw PagerDuty API objects a snapshot holds (``mappers``, one small function per
resource type), the account before and after the plan is assembled in memory (``account``,
planned v2 schedules rendered by the emulator's maths in ``schedules``) and both are judged by
the same rules and compared as ``check`` compares with a baseline (``compare``). ``locations``
finds each resource block in the ``.tf`` files; ``outputs`` renders the verdict.
"""
