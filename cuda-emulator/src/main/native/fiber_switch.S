# fiber_switch.S: the emulator's context switch (x86-64 System V): saves the callee-saved registers and the
# SSE/x87 control words on the current stack, stores the stack pointer, and resumes the other fiber's.
# A few instructions instead of swapcontext's signal-mask system calls: a launch switches millions of times.
        .text
        .globl  tpk_emu_switch
        .hidden tpk_emu_switch
        .type   tpk_emu_switch, @function
# void tpk_emu_switch(void** save_sp /* rdi */, void* next_sp /* rsi */)
tpk_emu_switch:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size   tpk_emu_switch, .-tpk_emu_switch

# A new fiber's first "return" lands here: align the stack for a call and run the thread's body, which
# never returns (it switches back to the scheduler for good).
        .globl  tpk_emu_fiber_entry
        .hidden tpk_emu_fiber_entry
        .type   tpk_emu_fiber_entry, @function
tpk_emu_fiber_entry:
        andq    $-16, %rsp
        call    tpk_emu_fiber_main@PLT
        ud2
        .size   tpk_emu_fiber_entry, .-tpk_emu_fiber_entry

        .section .note.GNU-stack,"",@progbits
