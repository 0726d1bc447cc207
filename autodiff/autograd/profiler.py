from ..profiler import *
