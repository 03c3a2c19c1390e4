#ifndef C_SUPERVISOR_H
#define C_SUPERVISOR_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when the thread
/// that started it ends. prctl is variadic, so Swift cannot call it directly.
int csupervisor_set_parent_death_signal(int signal);

#endif
