#ifndef C_SUPERVISOR_H
#define C_SUPERVISOR_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when the thread
/// that started it ends. prctl is variadic, so Swift cannot call it directly.
int csupervisor_set_parent_death_signal(int signal);

/// Closes every descriptor from `first` up (close_range, or one by one where it is missing), so a
/// child keeps none of the supervisor's sockets.
void csupervisor_close_descriptors_from(int first);

/// Marks every descriptor from `first` up close-on-exec, so a process started next inherits none.
void csupervisor_close_descriptors_on_exec_from(int first);

#endif
