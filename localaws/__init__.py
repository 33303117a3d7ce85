"""The embedded AWS: emulator launcher, compatibility shims and (later) local SageMaker hosting.

Only this package and the tests may import moto.
"""
