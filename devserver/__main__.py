import gc

from devserver.server import main

main()
# Stopped, its pool's workers joined: spare the interpreter's exit the cycle collector's passes
# over the embedded AWS's heap (every item, object and mail of the session), which took 10 s
# and more after a whole end-to-end run on a busy machine.
gc.freeze()
